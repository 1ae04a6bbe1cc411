-- Why a document failed, for a machine (e.g. `malware_detected`), beside the human
-- `failure`; NULL for failures without a code.
ALTER TABLE documents ADD COLUMN failure_code TEXT;
