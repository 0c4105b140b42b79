package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/palisade-blog/palisade/internal/blog"
)

// Second factors live on the user document (totpSecret, totpEnabled,
// totpLastStep, recoveryCodes), so every change is one single-document
// update, and each update's filter repeats the check that decided it
// (a step after the last one, a code still in the list, the pending
// secret unchanged): on MongoDB that filter alone makes the check and the
// change one atomic step. FerretDB 1.24 does not evaluate a filter
// atomically with a concurrent update (see lock), and a TOTP code or a
// recovery code that works twice is exactly what this must prevent, so
// every change also runs under the account's lease lock, "2fa:<user id>".
// Sign-ins with a second factor are rare enough that the lock's two extra
// writes don't matter.

// factorFields is the projection that reads an account's second factor.
var factorFields = bson.M{"totpSecret": 1, "totpEnabled": 1, "totpLastStep": 1, "recoveryCodes": 1}

// TwoFactor implements blog.TwoFactorStore.
func (s *Store) TwoFactor(ctx context.Context, userID string) (blog.TwoFactor, error) {
	if !blog.ValidID(userID) {
		return blog.TwoFactor{}, blog.ErrUserNotFound
	}
	d, err := s.findFactors(ctx, userID)
	if err != nil {
		return blog.TwoFactor{}, fmt.Errorf("two factor: %w", err)
	}
	return blog.TwoFactor{
		TOTPSecret:    d.TOTPSecret,
		TOTPEnabled:   d.TOTPEnabled,
		TOTPLastStep:  d.TOTPLastStep,
		RecoveryCodes: d.RecoveryCodes,
	}, nil
}

func (s *Store) findFactors(ctx context.Context, userID string) (userDoc, error) {
	var d userDoc
	err := s.users.FindOne(ctx, bson.M{"_id": userID}, options.FindOne().SetProjection(factorFields)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return userDoc{}, blog.ErrUserNotFound
	}
	if err != nil {
		return userDoc{}, unavailable(err)
	}
	if len(d.RecoveryCodes) == 0 {
		d.RecoveryCodes = nil
	}
	return d, nil
}

// changeFactor runs fn under the account's lease lock with its second
// factor as it is now (read under the lock).
func (s *Store) changeFactor(ctx context.Context, what, userID string, fn func(work context.Context, d userDoc) error) error {
	if !blog.ValidID(userID) {
		return blog.ErrUserNotFound
	}
	work, release, err := s.lock(ctx, "2fa:"+userID)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer release()
	d, err := s.findFactors(work, userID)
	if err == nil {
		err = fn(work, d)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// updateFactor applies update to the user if filter (which always
// includes the _id) still matches, and reports whether it did.
func (s *Store) updateFactor(ctx context.Context, filter, update bson.M) (bool, error) {
	res, err := s.users.UpdateOne(ctx, filter, update)
	if err != nil {
		return false, unavailable(err)
	}
	return res.MatchedCount > 0, nil
}

// codeList is hashes without repeats, and never nil: a nil slice would be
// stored as null, not as an empty list.
func codeList(hashes []string) []string {
	out := make([]string, 0, len(hashes))
	for _, h := range hashes {
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// BeginTOTP implements blog.TwoFactorStore.
func (s *Store) BeginTOTP(ctx context.Context, userID, sealed string) error {
	if sealed == "" {
		return errors.New("begin totp: empty secret")
	}
	return s.changeFactor(ctx, "begin totp", userID, func(work context.Context, d userDoc) error {
		if d.TOTPEnabled {
			return blog.ErrTOTPEnabled
		}
		ok, err := s.updateFactor(work,
			bson.M{"_id": userID, "totpEnabled": bson.M{"$ne": true}},
			bson.M{"$set": bson.M{"totpSecret": sealed, "totpLastStep": int64(0)}})
		if err == nil && !ok {
			return blog.ErrTOTPEnabled
		}
		return err
	})
}

// EnableTOTP implements blog.TwoFactorStore: the flag, the last step, the
// codes and the token version change in one update, whose filter is the
// pending secret.
func (s *Store) EnableTOTP(ctx context.Context, userID, sealed string, step int64, recoveryHashes []string) error {
	return s.changeFactor(ctx, "enable totp", userID, func(work context.Context, d userDoc) error {
		if d.TOTPEnabled {
			return blog.ErrTOTPEnabled
		}
		if d.TOTPSecret == "" || d.TOTPSecret != sealed {
			return blog.ErrNoPendingTOTP
		}
		ok, err := s.updateFactor(work,
			bson.M{"_id": userID, "totpEnabled": bson.M{"$ne": true}, "totpSecret": sealed},
			bson.M{
				"$set": bson.M{"totpEnabled": true, "totpLastStep": step, "recoveryCodes": codeList(recoveryHashes)},
				"$inc": bson.M{"tokenVersion": 1},
			})
		if err == nil && !ok {
			return blog.ErrNoPendingTOTP
		}
		return err
	})
}

// UseTOTPStep implements blog.TwoFactorStore.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	return s.changeFactor(ctx, "use totp step", userID, func(work context.Context, d userDoc) error {
		if !d.TOTPEnabled || d.TOTPLastStep >= step {
			return blog.ErrCodeUsed
		}
		ok, err := s.updateFactor(work,
			bson.M{"_id": userID, "totpEnabled": true, "totpLastStep": bson.M{"$lt": step}},
			bson.M{"$set": bson.M{"totpLastStep": step}})
		if err == nil && !ok {
			return blog.ErrCodeUsed
		}
		return err
	})
}

// UseRecoveryCode implements blog.TwoFactorStore.
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	return s.changeFactor(ctx, "use recovery code", userID, func(work context.Context, d userDoc) error {
		if !slices.Contains(d.RecoveryCodes, hash) {
			return blog.ErrCodeUsed
		}
		ok, err := s.updateFactor(work,
			bson.M{"_id": userID, "recoveryCodes": hash},
			bson.M{"$pull": bson.M{"recoveryCodes": hash}})
		if err == nil && !ok {
			return blog.ErrCodeUsed
		}
		return err
	})
}

// ReplaceRecoveryCodes implements blog.TwoFactorStore.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	return s.changeFactor(ctx, "replace recovery codes", userID, func(work context.Context, d userDoc) error {
		if !d.TOTPEnabled {
			return blog.ErrTOTPOff
		}
		ok, err := s.updateFactor(work,
			bson.M{"_id": userID, "totpEnabled": true},
			bson.M{"$set": bson.M{"recoveryCodes": codeList(hashes)}, "$inc": bson.M{"tokenVersion": 1}})
		if err == nil && !ok {
			return blog.ErrTOTPOff
		}
		return err
	})
}

// DisableTOTP implements blog.TwoFactorStore. Only turning off a factor
// that was on bumps the token version: dropping an unconfirmed enrolment
// changes nothing about how the account signs in.
func (s *Store) DisableTOTP(ctx context.Context, userID string) error {
	return s.changeFactor(ctx, "disable totp", userID, func(work context.Context, d userDoc) error {
		if d.TOTPSecret == "" && !d.TOTPEnabled {
			return nil
		}
		update := bson.M{"$set": bson.M{"totpSecret": "", "totpEnabled": false, "totpLastStep": int64(0), "recoveryCodes": []string{}}}
		if d.TOTPEnabled {
			update["$inc"] = bson.M{"tokenVersion": 1}
		}
		_, err := s.updateFactor(work, bson.M{"_id": userID}, update)
		return err
	})
}

// ResealTOTP implements blog.TwoFactorStore: a compare-and-swap on the
// stored secret.
func (s *Store) ResealTOTP(ctx context.Context, userID, old, new string) error {
	if old == "" || new == "" {
		return errors.New("reseal totp: empty secret")
	}
	return s.changeFactor(ctx, "reseal totp", userID, func(work context.Context, d userDoc) error {
		if d.TOTPSecret != old {
			return nil // replaced meanwhile
		}
		_, err := s.updateFactor(work, bson.M{"_id": userID, "totpSecret": old}, bson.M{"$set": bson.M{"totpSecret": new}})
		return err
	})
}

// TOTPUsers implements blog.TwoFactorStore. ($gt "" rather than $ne "":
// $ne would also match accounts without the field at all.) A rare
// command-line operation over few accounts, so it scans them unindexed.
func (s *Store) TOTPUsers(ctx context.Context) ([]string, error) {
	ids, err := findAll(ctx, s.users, bson.M{"totpSecret": bson.M{"$gt": ""}},
		options.Find().SetProjection(bson.M{"_id": 1}).SetSort(bson.D{{Key: "_id", Value: 1}}),
		func(d userDoc) string { return d.ID })
	if err != nil {
		return nil, fmt.Errorf("totp users: %w", err)
	}
	return ids, nil
}
