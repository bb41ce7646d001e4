package sandbox

// PlayOtherBuild makes this program's supervisor speak another protocol
// version, as one built from another version of the package would.
func PlayOtherBuild() { protocol++ }
