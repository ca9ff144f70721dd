/*
 * protobuf.h: the few pieces of the protocol buffers wire format that
 * pprof's profile.proto needs, written by hand (protobuf.c): varints,
 * tags, length-delimited fields and packed repeated varints, encoded into
 * a strbuf, and a bounds-checked reader over a byte range.
 *
 * Wire format: https://protobuf.dev/programming-guides/encoding/ .  Only
 * wire types 0 (varint), 1 (64-bit), 2 (length-delimited) and 5 (32-bit)
 * exist here; groups (3, 4) are refused as malformed, as proto3 does.
 *
 * The reader never reads outside [p, end): every function checks the
 * bounds first and reports failure through its return value, so a
 * truncated or hostile input cannot make it misbehave.
 */
#ifndef PLOP_PROTOBUF_H
#define PLOP_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;

enum pb_wire {
    PB_VARINT = 0,
    PB_I64 = 1,
    PB_LEN = 2,
    PB_I32 = 5
};

/* ---- encoding: appends to sb (arena-owned, see strbuf.h) ---- */

void pb_put_varint(struct strbuf *sb, uint64_t v);

/* Field `field` as a varint; nothing when v is 0 (proto3's default). */
void pb_put_uint(struct strbuf *sb, uint32_t field, uint64_t v);

/* Field `field` as a length-delimited run of bytes (sub-message, string,
 * packed array), written even when empty. */
void pb_put_bytes(struct strbuf *sb, uint32_t field, const void *data,
                  size_t len);

/* Field `field` as a packed repeated varint; nothing when n is 0. */
void pb_put_packed(struct strbuf *sb, uint32_t field, const uint64_t *v,
                   size_t n);

/* ---- decoding ---- */

struct pb_reader {
    const unsigned char *start;  /* for offsets in messages */
    const unsigned char *p;      /* next byte */
    const unsigned char *end;    /* one past the last byte */
};

/* One field as read by pb_next(). */
struct pb_field {
    uint32_t number;
    enum pb_wire wire;
    uint64_t value;                 /* PB_VARINT, PB_I64, PB_I32 */
    const unsigned char *data;      /* PB_LEN: the bytes */
    size_t len;
    size_t offset;                  /* of the tag, from r->start */
};

/* Why a read failed, for the caller's message. */
enum pb_error {
    PB_OK = 0,
    PB_ERR_TRUNCATED,       /* the message ends inside a field */
    PB_ERR_VARINT,          /* a varint longer than 10 bytes */
    PB_ERR_WIRE,            /* wire type 3, 4, 6 or 7 */
    PB_ERR_FIELD            /* field number 0 */
};

void pb_reader_init(struct pb_reader *r, const void *data, size_t len);

/* A reader over a PB_LEN field's bytes, with offsets still counted from
 * parent->start. */
void pb_reader_sub(struct pb_reader *r, const struct pb_reader *parent,
                   const struct pb_field *f);

/*
 * Reads the next field into *f.  Returns 1 when a field was read, 0 at
 * the end of the range, -1 on malformed input with *err set and
 * *err_offset the byte offset (from r->start) where it was found.
 */
int pb_next(struct pb_reader *r, struct pb_field *f, enum pb_error *err,
            size_t *err_offset);

/*
 * Reads one varint from [*p, end), advancing *p.  Returns 0, or -1 with
 * *err set (PB_ERR_TRUNCATED or PB_ERR_VARINT) and *p unchanged.
 */
int pb_read_varint(const unsigned char **p, const unsigned char *end,
                   uint64_t *v, enum pb_error *err);

/* A short lowercase description of err ("truncated field", ...). */
const char *pb_error_str(enum pb_error err);

#endif
