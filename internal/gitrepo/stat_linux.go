package gitrepo

import "syscall"

func ctim(st *syscall.Stat_t) syscall.Timespec { return st.Ctim }
func mtim(st *syscall.Stat_t) syscall.Timespec { return st.Mtim }
