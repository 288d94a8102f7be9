-- Each side of an app may name an extra CA bundle (a PEM file) its client trusts
-- besides the operating system's store (issue 16): a Jira or Okta behind a company CA.
ALTER TABLE apps ADD COLUMN okta_ca_file TEXT;
ALTER TABLE apps ADD COLUMN target_ca_file TEXT;
