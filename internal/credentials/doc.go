// Package credentials builds the credential files upstream Tekton gives a
// TaskRun's steps from the Secrets of its ServiceAccount: Git basic-auth
// (.gitconfig and .git-credentials), Git SSH (.ssh/id_<secret>,
// .ssh/config, .ssh/known_hosts) and Docker registries
// (.docker/config.json). A Secret takes part when its annotations name
// what it is for, as in tekton.dev/git-0: https://github.com or
// tekton.dev/docker-0: https://index.docker.io; Secrets of type
// kubernetes.io/dockerconfigjson and kubernetes.io/dockercfg take part as
// they are.
//
// The files are laid out relative to a home directory; executors write
// them under /tekton/creds and make them appear in each step's $HOME.
package credentials
