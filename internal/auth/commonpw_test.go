package auth

import (
	"sync"
	"testing"
)

func TestIsCommonPassword(t *testing.T) {
	common := map[string]string{
		"lowercase":         "password",
		"capitalised":       "Password",
		"upper case":        "PASSWORD",
		"digits":            "123456",
		"surrounding space": "  qwerty\t",
		"full-width":        "\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44", // ｐａｓｓｗｏｒｄ
	}
	for name, pw := range common {
		t.Run(name, func(t *testing.T) {
			if !IsCommonPassword(pw) {
				t.Errorf("IsCommonPassword(%q) = false", pw)
			}
		})
	}
	uncommon := map[string]string{
		"long random phrase": "plinth marmalade orbit juniper cascade 7",
		"empty":              "",
		"only spaces":        "   ",
		"inner space":        "pass word x9q",
	}
	for name, pw := range uncommon {
		t.Run(name, func(t *testing.T) {
			if IsCommonPassword(pw) {
				t.Errorf("IsCommonPassword(%q) = true", pw)
			}
		})
	}
}

func TestCommonPasswordCount(t *testing.T) {
	t.Run("at least 10000", func(t *testing.T) {
		if n := CommonPasswordCount(); n < 10000 {
			t.Errorf("CommonPasswordCount = %d", n)
		}
	})
	t.Run("whole list loaded", func(t *testing.T) {
		// The file has 49,233 lines; folding can only merge a few. A much
		// smaller count would mean the file was truncated or misread.
		if n := CommonPasswordCount(); n < 49000 || n > 49233 {
			t.Errorf("CommonPasswordCount = %d, want about 49233", n)
		}
	})
	t.Run("concurrent first use", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if !IsCommonPassword("letmein") {
					t.Error("letmein not common")
				}
			})
		}
		wg.Wait()
	})
}
