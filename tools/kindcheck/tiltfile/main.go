// tiltfile executes a Tiltfile with go.starlark.net, the Starlark interpreter Tilt itself embeds,
// against stubs of the Tilt built-ins. Each stub takes exactly the parameters of Tilt's API
// (https://docs.tilt.dev/api.html), so a misspelt keyword, a missing argument or an unknown
// built-in fails as it would under `tilt up`. The stubs record every call; the result is printed as
// JSON for the tests to check what the Tiltfile declares (images, live updates, resources, port
// forwards) without a Docker engine or a cluster.
//
//	tiltfile path/to/Tiltfile
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

// call is one recorded built-in call, with its arguments by parameter name.
type call struct {
	Fn   string         `json:"fn"`
	Args map[string]any `json:"args"`
}

var calls []call

// builtin declares a Tilt function by its parameter list, in starlark.UnpackArgs notation
// ("name?" is optional). It returns `result` (None when nil) after recording the call.
func builtin(name string, params []string, result func(args map[string]any) starlark.Value) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		values := make([]starlark.Value, len(params))
		pairs := make([]any, 0, 2*len(params))
		for i, p := range params {
			pairs = append(pairs, p, &values[i])
		}
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, pairs...); err != nil {
			return nil, err
		}
		recorded := map[string]any{}
		for i, p := range params {
			if values[i] != nil {
				recorded[trimOptional(p)] = toGo(values[i])
			}
		}
		calls = append(calls, call{Fn: name, Args: recorded})
		if result != nil {
			return result(recorded), nil
		}
		return starlark.None, nil
	})
}

func trimOptional(p string) string {
	if len(p) > 0 && p[len(p)-1] == '?' {
		return p[:len(p)-1]
	}
	return p
}

// value is an opaque Tilt value (a live-update step, a port forward, a YAML blob) that converts to
// JSON as its kind and arguments.
type value struct {
	kind string
	args map[string]any
}

func (v *value) String() string        { return fmt.Sprintf("%s(%v)", v.kind, v.args) }
func (v *value) Type() string          { return v.kind }
func (v *value) Freeze()               {}
func (v *value) Truth() starlark.Bool  { return true }
func (v *value) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: %s", v.kind) }

func opaque(kind string) func(map[string]any) starlark.Value {
	return func(args map[string]any) starlark.Value { return &value{kind: kind, args: args} }
}

func toGo(v starlark.Value) any {
	switch x := v.(type) {
	case starlark.NoneType:
		return nil
	case starlark.Bool:
		return bool(x)
	case starlark.Int:
		n, _ := x.Int64()
		return n
	case starlark.Float:
		return float64(x)
	case starlark.String:
		return string(x)
	case *starlark.List:
		out := make([]any, x.Len())
		for i := range out {
			out[i] = toGo(x.Index(i))
		}
		return out
	case starlark.Tuple:
		out := make([]any, len(x))
		for i := range x {
			out[i] = toGo(x[i])
		}
		return out
	case *starlark.Dict:
		out := map[string]any{}
		for _, item := range x.Items() {
			out[fmt.Sprint(toGo(item[0]))] = toGo(item[1])
		}
		return out
	case *value:
		return map[string]any{"$type": x.kind, "args": x.args}
	default:
		return v.String()
	}
}

func predeclared(dir string) starlark.StringDict {
	fileExists := func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var path string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path); err != nil {
			return nil, err
		}
		_, err := os.Stat(filepath.Join(dir, path))
		return starlark.Bool(err == nil), nil
	}
	return starlark.StringDict{
		"TRIGGER_MODE_AUTO":   starlark.MakeInt(0),
		"TRIGGER_MODE_MANUAL": starlark.MakeInt(1),
		"allow_k8s_contexts":  builtin("allow_k8s_contexts", []string{"contexts"}, nil),
		"default_registry":    builtin("default_registry", []string{"host", "host_from_cluster?", "single_name?"}, nil),
		"update_settings": builtin("update_settings",
			[]string{"max_parallel_updates?", "k8s_upsert_timeout_secs?", "suppress_unused_image_warnings?"}, nil),
		"watch_file": builtin("watch_file", []string{"path"}, nil),
		"docker_build": builtin("docker_build", []string{
			"ref", "context", "build_args?", "dockerfile?", "dockerfile_contents?", "live_update?", "match_in_env_vars?",
			"ignore?", "only?", "entrypoint?", "target?", "ssh?", "network?", "secret?", "extra_tag?", "container_args?",
			"cache_from?", "pull?", "platform?", "extra_hosts?",
		}, nil),
		"sync":         builtin("sync", []string{"local_path", "remote_path"}, opaque("sync")),
		"run":          builtin("run", []string{"cmd", "trigger?", "echo_off?"}, opaque("run")),
		"fall_back_on": builtin("fall_back_on", []string{"files"}, opaque("fall_back_on")),
		"helm": builtin("helm", []string{"paths", "name?", "namespace?", "values?", "set?", "kube_version?", "skip_crds?"},
			opaque("helm")),
		"k8s_yaml": builtin("k8s_yaml", []string{"yaml", "allow_duplicates?"}, nil),
		"k8s_kind": builtin("k8s_kind", []string{"kind", "api_version?", "image_json_path?", "image_object?", "pod_readiness?"}, nil),
		"k8s_resource": builtin("k8s_resource", []string{
			"workload?", "new_name?", "port_forwards?", "extra_pod_selectors?", "trigger_mode?", "resource_deps?", "objects?",
			"auto_init?", "pod_readiness?", "links?", "labels?", "discovery_strategy?",
		}, nil),
		"local_resource": builtin("local_resource", []string{
			"name", "cmd?", "deps?", "trigger_mode?", "resource_deps?", "ignore?", "auto_init?", "serve_cmd?", "cmd_bat?",
			"serve_cmd_bat?", "allow_parallel?", "links?", "tags?", "env?", "serve_env?", "readiness_probe?", "dir?",
			"serve_dir?", "labels?",
		}, nil),
		"port_forward": builtin("port_forward", []string{"local_port", "container_port?", "name?", "link_path?", "host?"},
			opaque("port_forward")),
		"link": builtin("link", []string{"url", "name?"}, opaque("link")),
		// os.path.exists is the one file-system question the Tiltfile asks.
		"os": starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
			"path": starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
				"exists": starlark.NewBuiltin("os.path.exists", fileExists),
			}),
		}),
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tiltfile <Tiltfile>")
		os.Exit(2)
	}
	path := os.Args[1]
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Tilt's dialect: sets, while loops, recursion, top-level if/for and global reassignment.
	opts := &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}
	thread := &starlark.Thread{Name: "tiltfile", Print: func(_ *starlark.Thread, msg string) { fmt.Fprintln(os.Stderr, msg) }}
	globals, err := starlark.ExecFileOptions(opts, thread, path, src, predeclared(filepath.Dir(path)))
	if err != nil {
		if evalErr, ok := err.(*starlark.EvalError); ok {
			fmt.Fprintln(os.Stderr, evalErr.Backtrace())
		} else {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(1)
	}
	names := make([]string, 0, len(globals))
	for name := range globals {
		names = append(names, name)
	}
	sort.Strings(names)
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	if err := out.Encode(map[string]any{"calls": calls, "globals": names}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
