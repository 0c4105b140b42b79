package httpsec

import (
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Rate
		wantErr string
	}{
		{name: "minutes", in: "100/15m", want: Rate{Limit: 100, Window: 15 * time.Minute}},
		{name: "seconds", in: "5/1s", want: Rate{Limit: 5, Window: time.Second}},
		{name: "compound duration", in: "10/1h30m", want: Rate{Limit: 10, Window: 90 * time.Minute}},
		{name: "spaces", in: " 3 / 10s ", want: Rate{Limit: 3, Window: 10 * time.Second}},
		{name: "no slash", in: "100", wantErr: "want N/duration"},
		{name: "count not a number", in: "many/1m", wantErr: "not a whole number"},
		{name: "zero count", in: "0/1m", wantErr: "at least 1"},
		{name: "negative count", in: "-1/1m", wantErr: "at least 1"},
		{name: "bad duration", in: "100/15", wantErr: "not a Go duration"},
		{name: "window too short", in: "100/500ms", wantErr: "at least 1s"},
		{name: "extra slash", in: "1/1m/2", wantErr: "not a Go duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRate(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRateStringRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		rate Rate
		want string
	}{
		{name: "minutes", rate: Rate{Limit: 100, Window: 15 * time.Minute}, want: "100/15m0s"},
		{name: "seconds", rate: Rate{Limit: 1, Window: time.Second}, want: "1/1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.rate.String()
			if s != tt.want {
				t.Errorf("String = %q, want %q", s, tt.want)
			}
			back, err := ParseRate(s)
			if err != nil || back != tt.rate {
				t.Errorf("ParseRate(%q) = %+v, %v", s, back, err)
			}
		})
	}
}
