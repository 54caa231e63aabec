#include "ringlet/tls/ticket_keys.hpp"

#include <wolfssl/wolfcrypt/chacha20_poly1305.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include <algorithm>
#include <vector>

#include <cstring>

namespace ringlet::tls {

namespace {

// One DRBG per thread, seeded once: tickets are sealed on every reactor for every full
// handshake, and seeding costs more than the ticket. False if no randomness can be had.
struct thread_rng {
    WC_RNG rng{};
    bool ok = wc_InitRng(&rng) == 0;
    ~thread_rng() {
        if (ok) wc_FreeRng(&rng);
    }
};

bool random_bytes(unsigned char* out, std::size_t n) {
    thread_local thread_rng r;
    return r.ok && wc_RNG_GenerateBlock(&r.rng, out, static_cast<word32>(n)) == 0;
}

ticket_key make_key() {
    ticket_key k;
    if (!random_bytes(k.name.data(), k.name.size()) ||
        !random_bytes(k.secret.data(), k.secret.size())) {
        std::abort(); // the control thread cannot make keys without randomness: nothing is safe
    }
    return k;
}

constexpr int iv_len = CHACHA20_POLY1305_AEAD_IV_SIZE;       // 12 of the 16 IV bytes
constexpr int tag_len = CHACHA20_POLY1305_AEAD_AUTHTAG_SIZE; // 16 of the 32 MAC bytes

} // namespace

std::array<unsigned char, 16> ticket_scope(std::span<const std::string> names) {
    std::vector<std::string> sorted(names.begin(), names.end());
    std::sort(sorted.begin(), sorted.end());
    std::string joined;
    for (const std::string& n : sorted) joined.append(n).push_back('\n');
    unsigned char digest[WC_SHA256_DIGEST_SIZE];
    wc_Sha256Hash(reinterpret_cast<const unsigned char*>(joined.data()),
                  static_cast<word32>(joined.size()), digest);
    std::array<unsigned char, 16> scope{};
    std::memcpy(scope.data(), digest, scope.size());
    return scope;
}

ticket_keys ticket_keys::generate(std::int64_t now) {
    ticket_keys t;
    t.current = make_key();
    t.created = now;
    return t;
}

ticket_keys ticket_keys::rotated(std::int64_t now) const {
    ticket_keys t;
    t.current = make_key();
    t.previous = current;
    t.created = now;
    return t;
}

int ticket_callback(WOLFSSL*, unsigned char key_name[WOLFSSL_TICKET_NAME_SZ],
                    unsigned char iv[WOLFSSL_TICKET_IV_SZ],
                    unsigned char mac[WOLFSSL_TICKET_MAC_SZ], int enc, unsigned char* ticket,
                    int in_len, int* out_len, void* user_ctx) {
    const auto* tc = static_cast<const ticket_context*>(user_ctx);
    if (!tc || !tc->keys || in_len < 0) return WOLFSSL_TICKET_RET_FATAL;
    const ticket_keys* keys = tc->keys;
    unsigned char aad[WOLFSSL_TICKET_NAME_SZ + iv_len + 16];
    std::memcpy(aad + WOLFSSL_TICKET_NAME_SZ + iv_len, tc->scope.data(), tc->scope.size());
    if (enc) {
        std::memcpy(key_name, keys->current.name.data(), WOLFSSL_TICKET_NAME_SZ);
        if (!random_bytes(iv, WOLFSSL_TICKET_IV_SZ)) return WOLFSSL_TICKET_RET_FATAL;
        std::memcpy(aad, key_name, WOLFSSL_TICKET_NAME_SZ);
        std::memcpy(aad + WOLFSSL_TICKET_NAME_SZ, iv, iv_len);
        std::memset(mac, 0, WOLFSSL_TICKET_MAC_SZ);
        if (wc_ChaCha20Poly1305_Encrypt(keys->current.secret.data(), iv, aad, sizeof aad, ticket,
                                        static_cast<word32>(in_len), ticket, mac) != 0) {
            return WOLFSSL_TICKET_RET_FATAL;
        }
        *out_len = in_len;
        return WOLFSSL_TICKET_RET_OK;
    }
    // Decrypt with whichever key named it; the previous key's tickets are re-issued.
    const ticket_key* k = nullptr;
    bool is_previous = false;
    if (std::memcmp(key_name, keys->current.name.data(), WOLFSSL_TICKET_NAME_SZ) == 0) {
        k = &keys->current;
    } else if (keys->previous &&
               std::memcmp(key_name, keys->previous->name.data(), WOLFSSL_TICKET_NAME_SZ) == 0) {
        k = &*keys->previous;
        is_previous = true;
    }
    if (!k) return WOLFSSL_TICKET_RET_REJECT; // unknown or expired key: full handshake
    std::memcpy(aad, key_name, WOLFSSL_TICKET_NAME_SZ);
    std::memcpy(aad + WOLFSSL_TICKET_NAME_SZ, iv, iv_len);
    if (wc_ChaCha20Poly1305_Decrypt(k->secret.data(), iv, aad, sizeof aad, ticket,
                                    static_cast<word32>(in_len), mac, ticket) != 0) {
        return WOLFSSL_TICKET_RET_REJECT;
    }
    *out_len = in_len;
    return is_previous ? WOLFSSL_TICKET_RET_CREATE : WOLFSSL_TICKET_RET_OK;
}

} // namespace ringlet::tls
