package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memInfo is a process's resident memory, from /proc/PID/status.
type memInfo struct {
	rssKB int64 // VmRSS: now
	hwmKB int64 // VmHWM: peak since start or the last resetPeak
}

func readMem(pid int) (memInfo, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memInfo{}, fmt.Errorf("read memory of %d: %w", pid, err)
	}
	defer func() { _ = f.Close() }()
	var m memInfo
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch key {
		case "VmRSS":
			dst = &m.rssKB
		case "VmHWM":
			dst = &m.hwmKB
		default:
			continue
		}
		*dst, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
	}
	return m, sc.Err()
}

// resetPeak resets VmHWM to the current RSS (Linux ≥ 4.0, the process's
// owner or root), so that VmHWM after a scenario is that scenario's peak.
func resetPeak(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}

// cpuTicks is the process's user plus system CPU time, all threads, in
// clock ticks (/proc/PID/stat fields 14 and 15).
func cpuTicks(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of %d: %w", pid, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(data[i+1:])) // f[0] is field 3
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return utime + stime, nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: getconf's
// answer, else 100 (what Linux uses on every common architecture).
var clockTicks = sync.OnceValue(func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			return float64(n)
		}
	}
	return 100
})

// machineTicks is the whole machine's busy and stolen CPU time so far, in
// clock ticks, from the first line of /proc/stat.
func machineTicks() (busy, steal uint64, err error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, fmt.Errorf("read /proc/stat: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("/proc/stat: unexpected format")
	}
	n := make([]uint64, 8)
	for i := range n {
		n[i], _ = strconv.ParseUint(f[i+1], 10, 64)
	}
	return n[0] + n[1] + n[2] + n[5] + n[6] + n[7], n[7], nil
}

// usage is what a server used during one scenario, and what the whole
// machine did meanwhile.
type usage struct {
	cpuPct     float64 // of one core, averaged over the scenario
	rssKB      int64   // after it
	peakRSSKB  int64   // highest during it
	machinePct float64 // busy CPU of every process, % of one core
	stealPct   float64 // CPU the hypervisor gave to others, % of one core
}

// meter measures a server over one scenario: CPU from /proc/PID/stat at
// both ends, peak memory from VmHWM (reset at the start) and from sampling
// VmRSS every 50 ms (in case the reset is not allowed).
type meter struct {
	pid        int
	began      time.Time
	ticks      uint64
	busy       uint64 // machine
	steal      uint64
	hwmReset   bool
	stop       context.CancelFunc
	done       chan struct{}
	sampledMax int64
}

func startMeter(pid int) *meter {
	m := &meter{pid: pid, began: time.Now(), done: make(chan struct{})}
	m.ticks, _ = cpuTicks(pid)
	m.busy, m.steal, _ = machineTicks()
	m.hwmReset = resetPeak(pid)
	ctx, cancel := context.WithCancel(context.Background())
	m.stop = cancel
	go func() {
		defer close(m.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if mi, err := readMem(pid); err == nil {
				m.sampledMax = max(m.sampledMax, mi.rssKB)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return m
}

func (m *meter) finish() usage {
	m.stop()
	<-m.done
	wall := time.Since(m.began).Seconds()
	var u usage
	if t, err := cpuTicks(m.pid); err == nil && wall > 0 {
		u.cpuPct = float64(t-m.ticks) / clockTicks() / wall * 100
	}
	if busy, steal, err := machineTicks(); err == nil && wall > 0 {
		u.machinePct = float64(busy-m.busy) / clockTicks() / wall * 100
		u.stealPct = float64(steal-m.steal) / clockTicks() / wall * 100
	}
	mi, _ := readMem(m.pid)
	u.rssKB = mi.rssKB
	u.peakRSSKB = max(m.sampledMax, mi.rssKB)
	if m.hwmReset {
		u.peakRSSKB = max(u.peakRSSKB, mi.hwmKB)
	}
	return u
}
