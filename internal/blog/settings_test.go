package blog

import (
	"errors"
	"strings"
	"testing"
)

func TestSettingsValidate(t *testing.T) {
	for _, ok := range []Settings{
		DefaultSettings(),
		{Title: "x"},
		{Title: strings.Repeat("界", SiteTitleMax), Description: strings.Repeat("é", SiteDescriptionMax)},
		{Title: "<script>alert(1)</script>", Description: "stored as written, escaped where shown"},
	} {
		if err := ok.Validate(); err != nil {
			t.Errorf("Validate(%+q) = %v", ok, err)
		}
	}
	for _, tt := range []struct {
		s     Settings
		field string
	}{
		{Settings{}, "title"},
		{Settings{Title: strings.Repeat("a", SiteTitleMax+1)}, "title"},
		{Settings{Title: "tab\there"}, "title"},
		{Settings{Title: "rtl\u202eoverride"}, "title"},
		{Settings{Title: "zero\u200bwidth"}, "title"},
		{Settings{Title: "\xff"}, "title"},
		{Settings{Title: "ok", Description: strings.Repeat("a", SiteDescriptionMax+1)}, "description"},
		{Settings{Title: "ok", Description: "two\nlines"}, "description"},
	} {
		var verr *ValidationError
		if err := tt.s.Validate(); !errors.As(err, &verr) || len(verr.Fields) != 1 || verr.Fields[0].Path != tt.field {
			t.Errorf("Validate(%+q) = %v, want one error on %s", tt.s, err, tt.field)
		}
	}
}

func TestSettingsClean(t *testing.T) {
	s := Settings{Title: "  My\u202e blog\n", Description: " e\u0301 \t"}
	if err := s.Clean(); err != nil {
		t.Fatal(err)
	}
	if s.Title != "My blog" || s.Description != "é" {
		t.Fatalf("cleaned to %+q", s)
	}
	blank := Settings{Title: " \u200b "}
	if err := blank.Clean(); err == nil {
		t.Fatal("a title of only invisible characters was accepted")
	}
}
