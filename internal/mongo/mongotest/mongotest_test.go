package mongotest

import "testing"

func TestWithDatabase(t *testing.T) {
	for in, want := range map[string]string{
		"mongodb://127.0.0.1:27017/":                  "mongodb://127.0.0.1:27017/db",
		"mongodb://127.0.0.1:27017":                   "mongodb://127.0.0.1:27017/db",
		"mongodb://u:p@h1:1,h2:2/old?replicaSet=rs0":  "mongodb://u:p@h1:1,h2:2/db?replicaSet=rs0",
		"mongodb+srv://u:p@cluster.example.net/x?w=1": "mongodb+srv://u:p@cluster.example.net/db?w=1",
	} {
		got := WithDatabase(in, "db")
		if got != want {
			t.Errorf("WithDatabase(%q) = %q, want %q", in, got, want)
		}
		if name := DatabaseName(got); name != "db" {
			t.Errorf("DatabaseName(%q) = %q", got, name)
		}
	}
}
