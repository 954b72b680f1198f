{{/*
Names and labels. Selectors use only name, instance and component: selectors are immutable, so a
label whose value changes with every release (version, chart) must never be in one.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "huntmaster.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every resource name: fullnameOverride, or release-chart (just the release when it contains the chart name). */}}
{{- define "huntmaster.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart-version, for the helm.sh/chart label. */}}
{{- define "huntmaster.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every resource. Call with (dict "ctx" $ "component" "operator").
*/}}
{{- define "huntmaster.labels" -}}
helm.sh/chart: {{ include "huntmaster.chart" .ctx }}
{{ include "huntmaster.selectorLabels" . }}
app.kubernetes.io/part-of: huntmaster
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels: name, instance and component only. Call with (dict "ctx" $ "component" "operator").
*/}}
{{- define "huntmaster.selectorLabels" -}}
app.kubernetes.io/name: {{ include "huntmaster.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Name of the operator's Deployment, ServiceAccount (unless overridden) and RBAC objects. */}}
{{- /* Namespace of the chart's HuntMasterPlatform: platform.namespace, else the release namespace. */ -}}
{{- define "huntmaster.platformNamespace" -}}
{{- .Values.platform.namespace | default .Release.Namespace }}
{{- end }}

{{- define "huntmaster.operatorName" -}}
{{- printf "%s-operator" (include "huntmaster.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "huntmaster.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "huntmaster.operatorName" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The subject of every RoleBinding: the operator's ServiceAccount. */}}
{{- define "huntmaster.rbacSubject" -}}
- kind: ServiceAccount
  name: {{ include "huntmaster.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end }}

{{/* The operator's metrics Service; prometheus-operator makes its name the `job` label of the scraped series. */}}
{{- define "huntmaster.metricsServiceName" -}}
{{- printf "%s-operator-metrics" (include "huntmaster.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Leader election is on with more than one replica, or when asked for. */}}
{{- define "huntmaster.leaderElect" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicaCount) 1) }}true{{ else }}false{{ end }}
{{- end }}

{{- define "huntmaster.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
What the operator does, derived from operator/ (runtime.ts, reconcile/, controller/):
- HuntMasterPlatform: informer (list, watch); finalizer add/remove (patch); status (patch on /status).
  huntmasterplatforms/finalizers: update lets it set blockOwnerDeletion on its children's ownerReferences
  where the OwnerReferencesPermissionEnforcement admission plugin is on.
- Secrets: informer over every Secret (referenced ones roll the pods); generated ones are read (get)
  before being created once (create); owned ones no longer wanted are pruned (delete); under
  deletionPolicy Retain the finalizer releases the generated ones and a new platform of the same
  name adopts them, by rewriting their ownerReferences only (patch).
- ConfigMaps, Services, Deployments, StatefulSets, PodDisruptionBudgets, NetworkPolicies: informer
  (list, watch), server-side apply (patch; create when the object is new), pruning (delete).
- Jobs: informer (list, watch), created once and never patched (create), pruned (delete).
- PersistentVolumeClaims: deletionPolicy Delete lists and deletes the data PVCs (list, delete).
- Events: recorded (create) and folded into a count (patch).
- ServiceMonitors, PrometheusRules: not cached, read (get) then server-side applied (create, patch).
- Leases: see leader election, a Role in the release namespace.
Discovery (GET /apis/monitoring.coreos.com/v1) is open to every authenticated user.
*/}}
{{- define "huntmaster.operatorRules" -}}
- apiGroups: [platform.huntmaster.academy]
  resources: [huntmasterplatforms]
  verbs: [list, watch, patch]
- apiGroups: [platform.huntmaster.academy]
  resources: [huntmasterplatforms/status]
  verbs: [patch]
- apiGroups: [platform.huntmaster.academy]
  resources: [huntmasterplatforms/finalizers]
  verbs: [update]
- apiGroups: ['']
  resources: [secrets]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: ['']
  resources: [configmaps, services]
  verbs: [list, watch, create, patch, delete]
- apiGroups: [apps]
  resources: [deployments, statefulsets]
  verbs: [list, watch, create, patch, delete]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [list, watch, create, delete]
- apiGroups: [batch]
  resources: [cronjobs]
  verbs: [list, watch, create, patch, delete]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [list, watch, create, patch, delete]
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [list, watch, create, patch, delete]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies, ingresses]
  verbs: [list, watch, create, patch, delete]
- apiGroups: ['']
  resources: [persistentvolumeclaims]
  verbs: [get, list, patch, delete]
- apiGroups: ['']
  resources: [events]
  verbs: [create, patch]
- apiGroups: [monitoring.coreos.com]
  resources: [servicemonitors, prometheusrules]
  verbs: [get, create, patch]
{{- end }}

{{/*
The operator pods' affinity: operator.affinity when set; otherwise, with more than one replica,
operator.podAntiAffinityPreset keeps the replicas on different nodes (soft: preferred, so a
one-node cluster still runs them all; hard: required), so one node going away never takes the
leader and its standby together.
*/}}
{{- define "huntmaster.operatorAffinity" -}}
{{- if .Values.operator.affinity }}
{{- toYaml .Values.operator.affinity }}
{{- else if and (gt (int .Values.replicaCount) 1) .Values.operator.podAntiAffinityPreset }}
{{- $term := dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" (include "huntmaster.selectorLabels" (dict "ctx" $ "component" "operator") | fromYaml)) }}
podAntiAffinity:
{{- if eq .Values.operator.podAntiAffinityPreset "hard" }}
  requiredDuringSchedulingIgnoredDuringExecution:
    {{- list $term | toYaml | nindent 4 }}
{{- else }}
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        {{- toYaml $term | nindent 8 }}
{{- end }}
{{- end }}
{{- end }}
