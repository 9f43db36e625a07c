package server

import "syscall"

const syscallTERM = syscall.SIGTERM
