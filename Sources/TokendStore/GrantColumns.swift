/// The columns a `GrantRecord` is read from, in the order both stores decode them (the schemas
/// of SQLite and PostgreSQL name them alike).
public enum GrantColumns {
    public static let record = """
        id, organisation, kind, subject, status, user_id, user_email, user_name, customer_id,
        access_issued_at, access_expires_at, next_refresh_at, refresh_token_issued_at, refresh_token_expires_at,
        refresh_token_fingerprint, last_refresh_at, last_attempt_at, consecutive_failures, last_error,
        last_error_class, last_http_status, nrtadmin_checked_at, in_flight_since, in_flight_owner,
        refresh_token IS NOT NULL, created_at, updated_at
        """
}
