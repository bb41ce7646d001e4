// Package dag orders the tasks of a pipeline.
//
// A pipeline task depends on another when it names it in runAfter or uses
// one of its results, $(tasks.<name>.results.<result>), anywhere upstream
// substitutes at pipeline scope: params, matrix params and include, when,
// displayName, taskRef, workspace subPaths, onError and every field of an
// embedded taskSpec. $(tasks.<name>.matrix.length) and
// $(tasks.<name>.status) create no dependency.
//
// Build checks the graph (unknown tasks, self-dependencies, cycles) and
// answers which tasks a task waits for and in which order tasks can run.
package dag
