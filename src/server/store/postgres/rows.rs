//! The one `SELECT` every message read starts with in PostgreSQL (through
//! the pool, and in the writer's transaction); `store::columns` decodes
//! what it names, as it does SQLite's.

/// Every message read starts with this, so rows always decode the same way.
/// The reactions column is a line per emoji, `first\temoji\tid,id…`.
macro_rules! select_messages {
    ($where:literal) => {
        concat!(
            "SELECT m.id, m.seq, m.room, m.text, m.cid, m.created_at,
                    m.user_id, f.name AS from_name, m.to_user_id, t.name AS to_name,
                    u.id AS media_id, u.name AS media_name, u.mime AS media_mime,
                    b.size AS media_size, b.width AS media_width, b.height AS media_height,
                    m.edited_at, m.deleted_at, m.change_seq,
                    q.id AS quote_id, q.seq AS quote_seq, q.user_id AS quote_from, qu.name AS quote_name,
                    substr(q.text, 1, 200) AS quote_text, q.deleted_at IS NOT NULL AS quote_deleted,
                    q.media_id IS NOT NULL AS quote_media,
                    m.thread_root, m.in_conversation, m.thread_replies, m.thread_last_at, m.mentions, m.everyone,
                    (SELECT string_agg(r.first::text || chr(9) || r.emoji || chr(9) || r.users, chr(10))
                     FROM (SELECT emoji, MIN(created_at) AS first,
                                  string_agg(user_id::text, ',' ORDER BY created_at, user_id) AS users
                           FROM reactions WHERE message_id = m.id GROUP BY emoji) r) AS reactions
             FROM messages m JOIN users f ON f.id = m.user_id LEFT JOIN users t ON t.id = m.to_user_id
                  LEFT JOIN uploads u ON u.id = m.media_id LEFT JOIN media_blobs b ON b.sha256 = u.sha256
                  LEFT JOIN messages q ON q.id = m.reply_to LEFT JOIN users qu ON qu.id = q.user_id ",
            $where
        )
    };
}
