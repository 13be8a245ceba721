-- Capped stock quantities (issue #14): a supplier's stock list may say "100+" rather than a
-- count (WesellCellular caps what it discloses). Such a level is stored as its floor in
-- on_hand with on_hand_at_least = true, so nothing downstream mistakes the cap for exactly
-- 100, and what it may promise against it is a floor, not a count.
ALTER TABLE inventory_levels ADD COLUMN on_hand_at_least boolean NOT NULL DEFAULT false;
