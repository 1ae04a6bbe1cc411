-- Workers are woken when a job becomes claimable: when jobs are inserted, and when a job
-- goes back to `queued` (a lease handed back). A claim (`queued` to `running`) queues no
-- work: woken by it, idle workers would claim, and their claims, empty or not, would wake
-- them again. The row trigger's condition is checked as each row changes, so a claim runs
-- no trigger at all.
DROP TRIGGER jobs_wake ON jobs;
CREATE TRIGGER jobs_wake AFTER INSERT ON jobs
    FOR EACH STATEMENT EXECUTE FUNCTION docintel_wake('docintel_jobs');
CREATE TRIGGER jobs_requeued AFTER UPDATE OF state ON jobs
    FOR EACH ROW WHEN (NEW.state = 'queued' AND OLD.state <> 'queued')
    EXECUTE FUNCTION docintel_wake('docintel_jobs');
