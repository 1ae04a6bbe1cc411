-- The queued jobs in claim order, and nothing else: a claim walks this index from its
-- start and stops at the first rows it can lock, instead of filtering `jobs_ready` or the
-- primary key over running jobs and the versions of finished ones.
CREATE INDEX jobs_queued ON jobs (id) WHERE state = 'queued';
