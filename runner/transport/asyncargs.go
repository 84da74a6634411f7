package transport

// ArgsToStdin returns cmd as it will be exec'd: a tend script's ARGs (a
// `/bin/sh -c SCRIPT NAME ARG...` command) moved from its argv to the
// start of its stdin (scriptargs.go); any other command unchanged. An
// async job, run later by a detached process, keeps this form, so what
// stands in the job's argv is no more than a normal run would show.
func ArgsToStdin(cmd Command) Command { return argsOnStdin(cmd) }
