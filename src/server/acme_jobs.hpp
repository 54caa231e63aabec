// ACME on the control thread: one job (a coroutine on the control reactor) per certificate that
// needs ordering, the challenge board that publishes what the reactors answer, and the storage
// plumbing (bundles, accounts, the per-name lock that keeps two processes from ordering the same
// certificate). Private to the server; certificate_manager owns the slots and starts the jobs.
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/certs/acme/client.hpp"
#include "ringlet/certs/acme/settings.hpp"
#include "ringlet/certs/storage.hpp"
#include "ringlet/runtime/task.hpp"
#include "ringlet/tls/certificate.hpp"
#include "ringlet/tls/challenge_table.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ringlet::server::detail {

using challenge_publisher = std::function<void(std::shared_ptr<const tls::challenge_table>)>;

// What the reactors answer right now; every change is published at once (RCU).
//
// Distributed solving: with a storage folder, every challenge this process presents is also
// written to <storage>/challenges/, and sync() (each maintenance step, every process with ACME
// sites) answers the ones other processes sharing the storage present. So behind a load balancer
// (or several processes on one port) the CA's validation may reach any of them. Entries carry an
// expiry, so a crashed process's leftovers stop being answered and are deleted.
class challenge_board final : public certs::acme::challenge_responder {
public:
    challenge_board(unsigned reactors, challenge_publisher publish,
                    const certs::storage* storage = nullptr)
        : reactors_(reactors), publish_(std::move(publish)), storage_(storage) {}

    // Picks up (and drops) challenges other processes present; cheap when nothing changed.
    void sync(std::int64_t now);

    result<void> present(certs::acme::challenge_type type, const certs::acme::identifier& id,
                         std::string_view token, std::string_view key_authorization,
                         std::string& error) override;
    void withdraw(certs::acme::challenge_type type, const certs::acme::identifier& id,
                  std::string_view token) override;

private:
    result<void> publish(std::string& error);
    void share(certs::acme::challenge_type type, std::string_view host, std::string_view token,
               std::string_view key_authorization);

    unsigned reactors_;
    challenge_publisher publish_;
    std::vector<tls::http_challenge> http_;
    std::vector<tls::alpn_challenge> alpn_;
    std::vector<std::string> alpn_tokens_; // alpn_[i] answers the challenge with this token
    const certs::storage* storage_;
    // Challenges presented by other processes: by token (their TLS-ALPN certificates are made
    // once), and the folder's mtime at the last scan.
    struct foreign_entry {
        std::string type, host, key_authorization;
        std::int64_t expires = 0;
        std::optional<tls::alpn_challenge> alpn;
    };
    std::map<std::string, foreign_entry> foreign_;
    std::int64_t scanned_mtime_ns = -1;
};

// One certificate under ACME management. Shared by the manager and the job it starts.
struct acme_slot {
    std::vector<std::string> names;
    certs::acme::settings settings;
    std::string issuer_key, name_key; // storage keys
    bool running = false;
    bool cancelled = false; // the configuration dropped it: the job stops at its next step
    int failures = 0;
    std::int64_t next_attempt = 0; // unix seconds; 0: not scheduled
    std::string last_error;
    std::int64_t expiry_logged = 0;         // when "has expired" was last logged
    std::optional<tls::certificate> issued; // set by the job, cleared once published
};

// What every job shares.
struct acme_env {
    std::optional<certs::storage> storage;
    std::shared_ptr<challenge_board> board;
    bool stopping = false;
    // The challenge type that last succeeded, per issuer: tried first next time.
    std::map<std::string, certs::acme::challenge_type> preferred;
};

// Orders (or, when another process just did, loads) the slot's certificate. Sets slot->issued
// on success, or failures / next_attempt / last_error on failure; clears `running` at the end.
rt::task<void> run_acme_job(std::shared_ptr<acme_slot> slot, std::shared_ptr<acme_env> env);

// The stored certificate for the slot's names if it is present, readable, covers every name and
// is valid at `now`. Errors other than "not stored yet" are logged.
std::optional<tls::certificate> load_acme_certificate(const certs::storage& st,
                                                      const acme_slot& slot, std::int64_t now);

} // namespace ringlet::server::detail
