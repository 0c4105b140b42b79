package totp

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/boombuler/barcode/qr"
)

// QR code drawing. The enrolment page shows the otpauth URL as an image
// served by Palisade itself: the Content-Security-Policy allows no data:
// image and no third-party origin, and a third party must never see a
// secret anyway.
const (
	// qrModulePixels is the size of one QR module. An otpauth URL with a
	// 160-bit secret needs a version 5 to 7 code (37 to 45 modules), so
	// the image is about 250 to 400 pixels wide: easy for a phone camera.
	qrModulePixels = 6
	// qrQuietZone is the white border, in modules, that ISO/IEC 18004
	// requires for scanners to find the code.
	qrQuietZone = 4
	// maxQRContent bounds the text drawn: an otpauth URL is well under
	// 300 bytes, and the bound keeps the image (and the work) small.
	maxQRContent = 1024
)

// QRCodePNG draws text (an otpauth:// URL) as a black-on-white QR code
// PNG, with error correction level M (15% of the code may be lost to a
// glare or a crease) and the quiet zone scanners need.
func QRCodePNG(text string) ([]byte, error) {
	if text == "" || len(text) > maxQRContent {
		return nil, errors.New("totp: QR code text must be 1 to 1024 bytes")
	}
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("totp: encode QR code: %w", err)
	}
	modules := code.Bounds().Dx()
	side := (modules + 2*qrQuietZone) * qrModulePixels
	// Two colours: a paletted image compresses to a few hundred bytes.
	img := image.NewPaletted(image.Rect(0, 0, side, side), color.Palette{color.White, color.Black})
	for y := 0; y < modules; y++ {
		for x := 0; x < modules; x++ {
			if color.GrayModel.Convert(code.At(x, y)).(color.Gray).Y >= 128 { // light: a background module
				continue
			}
			x0, y0 := (x+qrQuietZone)*qrModulePixels, (y+qrQuietZone)*qrModulePixels
			for dy := 0; dy < qrModulePixels; dy++ {
				for dx := 0; dx < qrModulePixels; dx++ {
					img.SetColorIndex(x0+dx, y0+dy, 1)
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("totp: encode PNG: %w", err)
	}
	return buf.Bytes(), nil
}
