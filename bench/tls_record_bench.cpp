// Bulk TLS 1.3 record throughput, 16 KiB records (the largest plaintext a record carries, what a
// static-file body is cut into), on an established in-memory connection (see
// tls_bench_support.hpp) with ringlet's server context. Per cipher:
//   encrypt       server wolfSSL_write only (the records are dropped): a reactor's cost per
//                 16 KiB of body sent;
//   encrypt_decrypt  server wolfSSL_write, then client wolfSSL_read of the same record;
// and, for comparison, the raw wolfCrypt AEAD on the same 16 KiB (no record layer, no copies).
// The bytes/s column is plaintext bytes.
#include "tls_bench_support.hpp"

#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <vector>

namespace {

using namespace ringlet;
using bench::memory_pair;
using bench::tls_fixture;

constexpr int record = 16384;

constexpr const char* aes128 = "TLS13-AES128-GCM-SHA256";
constexpr const char* chacha = "TLS13-CHACHA20-POLY1305-SHA256";

void records(benchmark::State& state, const char* cipher, bool decrypt) {
    const tls_fixture* f = tls_fixture::get();
    if (!f) {
        state.SkipWithError("no TLS fixture");
        return;
    }
    tls::ctx_ptr client = f->client({WOLFSSL_ECC_X25519}, cipher);
    memory_pair p(f->server_no_tickets.get(), client.get());
    if (std::string err = p.handshake(nullptr); !err.empty()) {
        state.SkipWithError(err.c_str());
        return;
    }
    if (std::string_view(wolfSSL_get_cipher_name(p.server())) != cipher) {
        state.SkipWithError("negotiated another cipher");
        return;
    }
    std::vector<char> plain(record, 'x');
    std::vector<char> got(record);
    p.to_client().data.reserve(2 * record + 64);
    for (auto _ : state) {
        if (wolfSSL_write(p.server(), plain.data(), record) != record) {
            state.SkipWithError("wolfSSL_write");
            return;
        }
        if (decrypt) {
            int have = 0;
            while (have < record) {
                const int r = wolfSSL_read(p.client(), got.data() + have, record - have);
                if (r <= 0) {
                    state.SkipWithError("wolfSSL_read");
                    return;
                }
                have += r;
            }
            benchmark::DoNotOptimize(got.data());
        } else {
            p.to_client().clear();
        }
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * record);
}

void BM_aes128gcm_encrypt(benchmark::State& s) {
    records(s, aes128, false);
}
void BM_aes128gcm_encrypt_decrypt(benchmark::State& s) {
    records(s, aes128, true);
}
void BM_chacha20poly1305_encrypt(benchmark::State& s) {
    records(s, chacha, false);
}
void BM_chacha20poly1305_encrypt_decrypt(benchmark::State& s) {
    records(s, chacha, true);
}

// Raw wolfCrypt: one AEAD seal of 16 KiB with a 5-byte header as associated data, as a TLS 1.3
// record is sealed (minus the inner content type byte and the nonce XOR).
void BM_raw_wolfcrypt_aes128gcm(benchmark::State& state) {
    Aes aes;
    std::array<unsigned char, 16> key{1, 2, 3};
    std::array<unsigned char, 12> iv{};
    std::array<unsigned char, 16> tag{};
    std::array<unsigned char, 5> aad{23, 3, 3, 0x40, 0x11};
    std::vector<unsigned char> in(record, 'x'), out(record);
    if (wc_AesInit(&aes, nullptr, INVALID_DEVID) != 0 ||
        wc_AesGcmSetKey(&aes, key.data(), key.size()) != 0) {
        state.SkipWithError("AES key");
        return;
    }
    for (auto _ : state) {
        ++iv[11];
        if (wc_AesGcmEncrypt(&aes, out.data(), in.data(), record, iv.data(), iv.size(), tag.data(),
                             tag.size(), aad.data(), aad.size()) != 0) {
            state.SkipWithError("wc_AesGcmEncrypt");
            break;
        }
        benchmark::DoNotOptimize(out.data());
    }
    wc_AesFree(&aes);
    state.SetBytesProcessed(std::int64_t(state.iterations()) * record);
}

void BM_raw_wolfcrypt_chacha20poly1305(benchmark::State& state) {
    std::array<unsigned char, 32> key{1, 2, 3};
    std::array<unsigned char, 12> iv{};
    std::array<unsigned char, 16> tag{};
    std::array<unsigned char, 5> aad{23, 3, 3, 0x40, 0x11};
    std::vector<unsigned char> in(record, 'x'), out(record);
    for (auto _ : state) {
        ++iv[11];
        if (wc_ChaCha20Poly1305_Encrypt(key.data(), iv.data(), aad.data(), aad.size(), in.data(),
                                        record, out.data(), tag.data()) != 0) {
            state.SkipWithError("wc_ChaCha20Poly1305_Encrypt");
            break;
        }
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * record);
}

BENCHMARK(BM_aes128gcm_encrypt);
BENCHMARK(BM_aes128gcm_encrypt_decrypt);
BENCHMARK(BM_chacha20poly1305_encrypt);
BENCHMARK(BM_chacha20poly1305_encrypt_decrypt);
BENCHMARK(BM_raw_wolfcrypt_aes128gcm);
BENCHMARK(BM_raw_wolfcrypt_chacha20poly1305);

} // namespace
