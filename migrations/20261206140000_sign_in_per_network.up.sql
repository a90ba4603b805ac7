-- Sign-in failures per (account, client network) (issue 25, 3): a stranger's wrong passwords lock
-- their own network out of the account, not the owner. docs/security.md, "Lockout per network".
--
-- `network` is the client's rate-limit bucket (an IPv4 address, an IPv6 /64; behind a trusted
-- proxy the forwarded client's). Per row: `failed_attempts` counts consecutive failures toward
-- this network's lock (the fifth locks it for 15 min × 2^lockout_count, at most 24 h);
-- `failures` counts every failure since this network's last success (what the owner is told);
-- `last_success_at` marks a network the owner has signed in from (not paced, see below).
CREATE TABLE sign_in_networks (
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    network         text        NOT NULL,
    failed_attempts integer     NOT NULL DEFAULT 0,
    failures        integer     NOT NULL DEFAULT 0,
    lockout_count   integer     NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    last_failed_at  timestamptz,
    last_success_at timestamptz,
    PRIMARY KEY (user_id, network),
    CONSTRAINT sign_in_networks_network_check CHECK (char_length(network) BETWEEN 1 AND 64),
    CONSTRAINT sign_in_networks_counts_check
        CHECK (failed_attempts >= 0 AND failures >= 0 AND lockout_count >= 0)
);

-- Account-wide, across networks: `users.failed_attempts` now counts failures since the last
-- success (forgotten after 24 h without one); from the fifth on, attempts from networks the owner
-- has never signed in from take turns `next_attempt_at` hands out (0.5 s apart, doubling every
-- five failures up to 8 s). `locked_until` and `lockout_count` now tell the latest network lock
-- and how many there were (an admin's unlock clears every network's).
ALTER TABLE users ADD COLUMN last_failed_at timestamptz, ADD COLUMN next_attempt_at timestamptz;

-- One sign-in attempt, counted before its password is checked: NULL for an unknown email, else
-- the account (`id`, `email`, `role`, `active`, `generation`, `password_hash`) and
--   allowed    whether the password may be checked (false: `reason` is `network locked` or
--              `paced`, and the attempt is not evaluated);
--   locked_now this attempt's failure locks its network (if its password is wrong);
--   wait_ms    how long to wait before checking it (its turn, when paced).
-- Attempts on one account run one at a time (the users row is locked first), so none slips past
-- a lock or a turn. It runs with the caller's rights (spingraph_auth's grants).
CREATE FUNCTION sign_in_attempt(p_email text, p_network text, p_max_failures integer,
                                p_max_wait_ms integer)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    u users%ROWTYPE;
    n sign_in_networks%ROWTYPE;
    recent integer;
    turn timestamptz;
    wait_ms integer := 0;
    lock_end timestamptz;
    account jsonb;
BEGIN
    SELECT * INTO u FROM users WHERE lower(email) = lower(p_email) FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    account := jsonb_build_object('id', u.id, 'email', u.email, 'role', u.role,
                                  'active', u.active, 'generation', u.token_generation,
                                  'password_hash', u.password_hash);
    INSERT INTO sign_in_networks (user_id, network) VALUES (u.id, p_network)
        ON CONFLICT (user_id, network) DO NOTHING;
    SELECT * INTO n FROM sign_in_networks WHERE user_id = u.id AND network = p_network;

    IF n.locked_until > now() THEN
        UPDATE sign_in_networks SET failures = failures + 1, last_failed_at = now()
        WHERE user_id = u.id AND network = p_network;
        RETURN account || jsonb_build_object('allowed', false, 'reason', 'network locked',
                                             'locked_now', false, 'wait_ms', 0);
    END IF;

    recent := CASE WHEN u.last_failed_at > now() - interval '24 hours'
                   THEN u.failed_attempts ELSE 0 END;
    IF n.last_success_at IS NULL AND recent >= p_max_failures THEN
        turn := greatest(now(), coalesce(u.next_attempt_at, now()));
        wait_ms := ceil(extract(epoch FROM turn - now()) * 1000);
        IF wait_ms > p_max_wait_ms THEN
            RETURN account || jsonb_build_object('allowed', false, 'reason', 'paced',
                                                 'locked_now', false, 'wait_ms', 0);
        END IF;
        UPDATE users SET next_attempt_at = turn + least(
                interval '500 milliseconds' * power(2, (recent - p_max_failures) / p_max_failures),
                interval '8 seconds')
        WHERE id = u.id;
    END IF;

    -- Counted as a failure until a success (grant.rs) clears it.
    IF n.failed_attempts + 1 >= p_max_failures THEN
        lock_end := now() + least(interval '15 minutes' * power(2, least(n.lockout_count, 10)),
                                  interval '24 hours');
    END IF;
    UPDATE sign_in_networks SET
        failed_attempts = CASE WHEN lock_end IS NULL THEN failed_attempts + 1 ELSE 0 END,
        lockout_count = lockout_count + CASE WHEN lock_end IS NULL THEN 0 ELSE 1 END,
        locked_until = coalesce(lock_end, locked_until),
        failures = failures + 1,
        last_failed_at = now()
    WHERE user_id = u.id AND network = p_network;
    UPDATE users SET
        failed_attempts = recent + 1,
        last_failed_at = now(),
        lockout_count = lockout_count + CASE WHEN lock_end IS NULL THEN 0 ELSE 1 END,
        locked_until = CASE WHEN lock_end IS NULL THEN locked_until
                            ELSE greatest(lock_end, locked_until) END
    WHERE id = u.id;
    -- Networks that only ever failed, and not for 30 days, are forgotten.
    DELETE FROM sign_in_networks
    WHERE user_id = u.id AND last_success_at IS NULL AND network <> p_network
      AND last_failed_at < now() - interval '30 days'
      AND NOT coalesce(locked_until > now(), false);
    RETURN account || jsonb_build_object('allowed', true, 'reason', NULL,
                                         'locked_now', lock_end IS NOT NULL, 'wait_ms', wait_ms);
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON sign_in_networks TO spingraph_auth;
