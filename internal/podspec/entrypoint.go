package podspec

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// entrypoints looks up images' default commands, once per image.
type entrypoints struct {
	opts  []remote.Option
	cache map[string][]string
}

func newEntrypoints(opts []remote.Option) *entrypoints {
	if opts == nil {
		opts = []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}
	}
	return &entrypoints{opts: opts, cache: map[string][]string{}}
}

// lookup returns what a container of image runs when it is given no
// command, as Tekton resolves it: the image's ENTRYPOINT, else its CMD.
func (e *entrypoints) lookup(ctx context.Context, image string) ([]string, error) {
	if cmd, ok := e.cache[image]; ok {
		return cmd, nil
	}
	ref, err := name.ParseReference(image)
	if err != nil {
		return nil, fmt.Errorf("parse image reference: %w", err)
	}
	img, err := remote.Image(ref, append([]remote.Option{remote.WithContext(ctx)}, e.opts...)...)
	if err != nil {
		return nil, fmt.Errorf("look up the image's command: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("look up the image's command: %w", err)
	}
	cmd := cf.Config.Entrypoint
	if len(cmd) == 0 {
		cmd = cf.Config.Cmd
	}
	if len(cmd) == 0 {
		return nil, fmt.Errorf("the image has neither ENTRYPOINT nor CMD: give the step a command or a script")
	}
	e.cache[image] = cmd
	return cmd, nil
}
