package totp

import (
	"bytes"
	"image/png"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// TestQRCodePNGDecodes draws an enrolment URL and reads it back with an
// independent decoder (ZXing's Go port), as a phone would.
func TestQRCodePNGDecodes(t *testing.T) {
	k, err := Generate("My Blog (blog.example.com)", "alice")
	if err != nil {
		t.Fatal(err)
	}
	b, err := QRCodePNG(k.URL)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != h || w < 200 || w > 600 {
		t.Errorf("image is %dx%d, want a square of 200 to 600 pixels", w, h)
	}
	if len(b) > 8<<10 {
		t.Errorf("PNG is %d bytes, want a few hundred", len(b))
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode QR code: %v", err)
	}
	if res.GetText() != k.URL {
		t.Fatalf("QR code says %q, want %q", res.GetText(), k.URL)
	}
}

func TestQRCodePNGRefuses(t *testing.T) {
	for _, s := range []string{"", strings.Repeat("a", maxQRContent+1)} {
		if _, err := QRCodePNG(s); err == nil {
			t.Errorf("QRCodePNG of %d bytes succeeded", len(s))
		}
	}
}
