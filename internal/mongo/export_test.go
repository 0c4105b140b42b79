package mongo

import "context"

// HoldLock takes the lease lock id, as the store's own writes do, until
// release is called.
func (s *Store) HoldLock(ctx context.Context, id string) (release func(), err error) {
	_, release, err = s.lock(ctx, id)
	return release, err
}

// OnLockBusy has f called each time the store finds a lock held by another
// and waits for it. Set it before the store is used concurrently.
func (s *Store) OnLockBusy(f func(id string)) { s.lockBusy = f }
