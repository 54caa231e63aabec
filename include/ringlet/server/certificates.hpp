// certificate_manager: the control thread's view of every certificate the sites need.
//
// At startup it loads manual certificates (validated: key matches, chain ordered, not expired,
// names cover the site's hosts; a certificate expiring within 7 days is a warning) and, for
// every other site, the internal-CA leaf stored by an earlier run (if still good) or a new one
// (7-day lifetime, stored under <storage>/certificates/internal/), then builds the first
// certificate table (per-reactor contexts, shared session ticket keys).
//
// maintain(now) is the periodic step: renew internal leaves when a third of their lifetime is
// left and rotate the ticket keys every 12 hours; when anything changed it returns a complete new
// table for the caller to publish. A failed renewal keeps the old certificate and is retried on
// the next step (it is logged). Control thread only. Time is passed in.
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/certs/internal_ca.hpp"
#include "ringlet/certs/storage.hpp"
#include "ringlet/server/site.hpp"
#include "ringlet/tls/cert_table.hpp"
#include "ringlet/tls/challenge_table.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ringlet::server {

namespace detail {
struct acme_slot;
struct acme_env;
} // namespace detail

class certificate_manager {
public:
    static constexpr std::int64_t internal_lifetime = 7 * 24 * 3600;
    static constexpr std::int64_t expiry_warning = 7 * 24 * 3600;
    static constexpr std::int64_t retry_pause = 300; // after a failed renewal

    // `strict_sni`: a ClientHello naming no configured host gets the unrecognized_name alert
    // instead of the first site's certificate.
    static result<std::unique_ptr<certificate_manager>>
    create(const std::vector<site_spec>& sites, const std::string& storage, unsigned reactors,
           std::int64_t now, std::string& error, bool strict_sni = false);
    ~certificate_manager();

    // Where ACME challenge answers go (the control thread's RCU cell); set before maintain().
    void set_challenge_publisher(
        std::function<void(std::shared_ptr<const tls::challenge_table>)> publish);

    std::shared_ptr<const tls::cert_table> table() const { return table_; }

    // A reload: the certificates for `sites` (the new configuration), reusing what it already
    // has (internal leaves for the same names; manual files are read again, so a replaced
    // certificate is picked up), keeping the ticket keys. On error nothing changes.
    result<std::shared_ptr<const tls::cert_table>> reconfigure(const std::vector<site_spec>& sites,
                                                               std::int64_t now, bool strict_sni,
                                                               std::string& error);

    // A new table when something was renewed or rotated, else null.
    std::shared_ptr<const tls::cert_table> maintain(std::int64_t now);
    // When maintain() next has work (unix seconds).
    std::int64_t next_due() const;

    // ACME challenges presented by other processes sharing the storage folder, answered here
    // too (each maintenance step; cheap when nothing changed).
    void sync_challenges(std::int64_t now);

    // Shutting down: certificate work in flight (ACME orders) ends at its next step.
    void stop() noexcept;

    // The internal CA's root certificate path, if the CA is in use.
    std::string root_path() const { return ca_ ? ca_->root_path() : std::string(); }

private:
    struct managed {
        std::vector<std::string> names; // hosts it serves
        bool internal = false;          // from the internal CA (for an ACME site: a stand-in)
        tls::certificate cert;
        std::shared_ptr<detail::acme_slot> acme; // "issuer": "acme": the order's state
    };

    // The certificate for one site: a manual one loaded and checked, or an internal one.
    result<managed> make_managed(const site_spec& s, std::int64_t now, std::string& error);
    // Issues an internal leaf and stores it; load_stored() takes a stored one instead when it is
    // for the same names, still valid and not yet due for renewal.
    bool issue_internal(managed& m, std::int64_t now, std::string& error);
    bool load_stored(managed& m, std::int64_t now);
    bool rebuild(std::string& error);
    certs::storage* store(std::string& error); // opened on first use
    result<managed> make_acme(const site_spec& s, std::int64_t now, std::string& error);
    // Starts due ACME orders and takes finished ones; true when a certificate changed.
    bool run_acme(std::vector<managed>& certs, std::int64_t now);

    std::vector<managed> certs_;
    std::optional<certs::internal_ca> ca_;
    std::string storage_;
    std::optional<certs::storage> store_;
    std::shared_ptr<const tls::ticket_keys> keys_;
    std::shared_ptr<const tls::cert_table> table_;
    unsigned reactors_ = 1;
    bool strict_sni_ = false;
    bool stopping_ = false;
    std::int64_t retry_at_ = 0; // set after a failure: when maintain() tries again
    std::uint64_t generation_ = 0;
    std::shared_ptr<detail::acme_env> acme_env_; // created with the first ACME site
    std::function<void(std::shared_ptr<const tls::challenge_table>)> publish_challenges_;
};

// The names an internal certificate covers for a site with these hosts (the local names when
// the site lists none).
std::vector<std::string> internal_names(const std::vector<std::string>& hosts);

// The default storage folder: /var/lib/ringlet for root, else $XDG_DATA_HOME/ringlet or
// ~/.local/share/ringlet.
std::string default_storage_dir();

} // namespace ringlet::server
