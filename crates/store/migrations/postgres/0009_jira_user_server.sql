-- A Jira before 8.3 can only deactivate users through its Crowd-compatible user-server API
-- (issue 14): the name of the application configured under "Jira user server"; its password
-- lives in app_secrets under the slot target.user_server.password.
ALTER TABLE apps ADD COLUMN target_user_server_name TEXT;
