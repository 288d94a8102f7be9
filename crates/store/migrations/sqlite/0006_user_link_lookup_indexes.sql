-- A single-user sync looks up the links holding one Okta id, one username in any case,
-- or one target key. The Okta id is the primary key; these two make the other terms of
-- that OR use an index too, instead of scanning every link of the app (100,000 at scale).
CREATE INDEX user_links_by_folded_username ON user_links (app_id, lower(username));
CREATE INDEX user_links_by_target_key ON user_links (app_id, target_key);
