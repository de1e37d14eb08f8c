package redisserver

import "syscall"

// sysProcAttr makes the kernel kill redis-server if the process that
// started it dies first (a test binary killed by a timeout), so no server
// outlives its test run.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
