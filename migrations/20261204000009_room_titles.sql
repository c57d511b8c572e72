-- A room's title is what people read, in any script ("Design Team", "中文");
-- its name stays the key in addresses and the protocol. Rooms made before
-- keep their name as their title.
ALTER TABLE rooms ADD COLUMN title TEXT NOT NULL DEFAULT '';
UPDATE rooms SET title = name;
