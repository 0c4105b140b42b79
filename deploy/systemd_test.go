// Package deploy holds what runs Palisade on a server: the systemd unit,
// an example environment file and the reverse-proxy recipes. Its tests
// check the unit with systemd's own tools and run each recipe's proxy in
// front of a real Palisade.
package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// systemdAnalyze finds systemd-analyze, which CI must have.
func systemdAnalyze(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze is not installed; CI installs it (apt-get install systemd)")
		}
		t.Skip("systemd-analyze is not installed (apt-get install systemd): the unit file is not checked")
	}
	return path
}

// unitCopy writes the unit to a temporary directory with ExecStart pointing
// at an executable that exists here (the test binary), since verify checks
// that the command can be run; everything else is the file as shipped.
func unitCopy(t *testing.T) string {
	t.Helper()
	unit, err := os.ReadFile("palisade.service")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const shipped = "ExecStart=/usr/local/bin/palisade serve"
	if !strings.Contains(string(unit), shipped) {
		t.Fatalf("the unit no longer starts %q; update this test", shipped)
	}
	path := filepath.Join(t.TempDir(), "palisade.service")
	text := strings.Replace(string(unit), shipped, "ExecStart="+self+" serve", 1)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUnitVerifies(t *testing.T) {
	bin := systemdAnalyze(t)
	out, err := exec.Command(bin, "verify", unitCopy(t)).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestUnitIsSandboxed holds the unit to systemd's own exposure rating:
// 2.0 or lower is "OK" or better (10 is an unsandboxed service).
func TestUnitIsSandboxed(t *testing.T) {
	bin := systemdAnalyze(t)
	out, err := exec.Command(bin, "security", "--offline=yes", unitCopy(t)).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	level, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("exposure level %.1f", level)
	if level > 2.0 {
		t.Errorf("exposure level %.1f, want 2.0 or lower; what systemd-analyze says is missing:\n%s", level, out)
	}
}

// TestUnitKeepsItsPromises checks the settings the documentation names,
// so that a later edit can't drop one while the overall rating stays low.
func TestUnitKeepsItsPromises(t *testing.T) {
	unit, err := os.ReadFile("palisade.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"DynamicUser=yes", "StateDirectory=palisade", "ProtectSystem=strict", "PrivateTmp=yes",
		"PrivateDevices=yes", "NoNewPrivileges=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
		"SystemCallFilter=@system-service", "CapabilityBoundingSet=\n",
	} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
}
