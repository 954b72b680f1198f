// Checks the dev-loop files against the real parsers of the tools that read them:
//   - kindcheck: kind-config.yaml against kind's own v1alpha4 types, unknown fields rejected;
//   - kindcheck/tiltfile: the Tiltfile with the Starlark interpreter Tilt embeds (go.starlark.net),
//     executed against stubs of the Tilt built-ins it calls, which record what it declares.
module huntmaster.academy/tools/kindcheck

go 1.25.0

require (
	go.starlark.net v0.0.0-20260908191801-89a6a09411d5
	sigs.k8s.io/kind v0.33.0
	sigs.k8s.io/yaml v1.6.0
)

require (
	github.com/pkg/errors v0.9.1 // indirect
	go.yaml.in/yaml/v2 v2.4.2 // indirect
	golang.org/x/sys v0.42.0 // indirect
)
