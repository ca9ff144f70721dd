/*
 * protobuf.c: the protocol buffers wire format, the part pprof needs
 * (see protobuf.h).  Written by hand: profile.proto uses five scalar
 * shapes and no oneof, map or group, so a varint codec and a field
 * walker are all of it, and plop-render needs no generated code and no
 * protobuf library.
 */
#include <string.h>

#include "protobuf.h"
#include "strbuf.h"

void
pb_put_varint(struct strbuf *sb, uint64_t v)
{
    unsigned char buf[10];
    size_t n = 0;
    while (v >= 0x80) {
        buf[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    buf[n++] = (unsigned char)v;
    strbuf_add(sb, buf, n);
}

static void
put_tag(struct strbuf *sb, uint32_t field, enum pb_wire wire)
{
    pb_put_varint(sb, ((uint64_t)field << 3) | (uint64_t)wire);
}

void
pb_put_uint(struct strbuf *sb, uint32_t field, uint64_t v)
{
    if (v == 0) {
        return;
    }
    put_tag(sb, field, PB_VARINT);
    pb_put_varint(sb, v);
}

void
pb_put_bytes(struct strbuf *sb, uint32_t field, const void *data,
             size_t len)
{
    put_tag(sb, field, PB_LEN);
    pb_put_varint(sb, len);
    if (len > 0) {
        strbuf_add(sb, data, len);
    }
}

static size_t
varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

void
pb_put_packed(struct strbuf *sb, uint32_t field, const uint64_t *v,
              size_t n)
{
    if (n == 0) {
        return;
    }
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        len += varint_size(v[i]);
    }
    put_tag(sb, field, PB_LEN);
    pb_put_varint(sb, len);
    for (size_t i = 0; i < n; i++) {
        pb_put_varint(sb, v[i]);
    }
}

void
pb_reader_init(struct pb_reader *r, const void *data, size_t len)
{
    r->start = data;
    r->p = data;
    r->end = r->p + len;
}

void
pb_reader_sub(struct pb_reader *r, const struct pb_reader *parent,
              const struct pb_field *f)
{
    r->start = parent->start;
    r->p = f->data;
    r->end = f->data + f->len;
}

int
pb_read_varint(const unsigned char **pp, const unsigned char *end,
               uint64_t *v, enum pb_error *err)
{
    const unsigned char *p = *pp;
    uint64_t x = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (p == end) {
            *err = PB_ERR_TRUNCATED;
            return -1;
        }
        unsigned char b = *p++;
        /* The tenth byte may only carry the top bit of a uint64. */
        if (shift == 63 && b > 1) {
            *err = PB_ERR_VARINT;
            return -1;
        }
        x |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80) {
            *v = x;
            *pp = p;
            return 0;
        }
    }
    *err = PB_ERR_VARINT;
    return -1;
}

int
pb_next(struct pb_reader *r, struct pb_field *f, enum pb_error *err,
        size_t *err_offset)
{
    if (r->p == r->end) {
        return 0;
    }
    const unsigned char *p = r->p;
    uint64_t tag, v;
    f->offset = (size_t)(p - r->start);
    *err_offset = f->offset;
    if (pb_read_varint(&p, r->end, &tag, err) != 0) {
        return -1;
    }
    if ((tag >> 3) == 0 || (tag >> 3) > UINT32_MAX) {
        *err = PB_ERR_FIELD;
        return -1;
    }
    f->number = (uint32_t)(tag >> 3);
    f->wire = (enum pb_wire)(tag & 7);
    f->data = NULL;
    f->len = 0;
    f->value = 0;
    *err_offset = (size_t)(p - r->start);
    switch (f->wire) {
    case PB_VARINT:
        if (pb_read_varint(&p, r->end, &f->value, err) != 0) {
            return -1;
        }
        break;
    case PB_I64:
    case PB_I32: {
        size_t n = f->wire == PB_I64 ? 8 : 4;
        if ((size_t)(r->end - p) < n) {
            *err = PB_ERR_TRUNCATED;
            return -1;
        }
        uint64_t x = 0;
        for (size_t i = 0; i < n; i++) {
            x |= (uint64_t)p[i] << (8 * i);
        }
        f->value = x;
        p += n;
        break;
    }
    case PB_LEN:
        if (pb_read_varint(&p, r->end, &v, err) != 0) {
            return -1;
        }
        if (v > (uint64_t)(r->end - p)) {
            *err = PB_ERR_TRUNCATED;
            return -1;
        }
        f->data = p;
        f->len = (size_t)v;
        p += v;
        break;
    default:
        *err = PB_ERR_WIRE;
        *err_offset = f->offset;
        return -1;
    }
    r->p = p;
    return 1;
}

const char *
pb_error_str(enum pb_error err)
{
    switch (err) {
    case PB_OK:
        return "no error";
    case PB_ERR_TRUNCATED:
        return "the data ends inside a field";
    case PB_ERR_VARINT:
        return "varint longer than 10 bytes";
    case PB_ERR_WIRE:
        return "unsupported wire type";
    case PB_ERR_FIELD:
        return "field number 0";
    }
    return "malformed protobuf";
}
