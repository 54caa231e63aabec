#include "ringlet/tls/cert_table.hpp"

#include "ringlet/base/ascii.hpp"
#include "ringlet/tls/server_context.hpp"

namespace ringlet::tls {

result<std::shared_ptr<const cert_table>>
cert_table::build(std::vector<cert_source> sources, unsigned reactors,
                  std::shared_ptr<const ticket_keys> keys, bool strict_sni,
                  std::uint64_t generation, std::string& error) {
    auto t = std::make_shared<cert_table>();
    t->keys_ = std::move(keys);
    t->strict_ = strict_sni;
    t->generation_ = generation;
    for (cert_source& src : sources) {
        auto e = std::make_unique<cert_entry>();
        e->cert = std::move(src.cert);
        e->tickets.keys = t->keys_.get();
        e->tickets.scope = ticket_scope(src.names);
        for (unsigned r = 0; r < reactors; ++r) {
            auto ctx = make_server_context(e->cert, &e->tickets, error);
            if (!ctx) return unexpected{ctx.error()};
            e->contexts.push_back(std::move(*ctx));
        }
        for (const std::string& name : src.names) {
            if (name.size() > 2 && name[0] == '*' && name[1] == '.') {
                t->wildcard_.emplace(name.substr(2), e.get()); // first certificate wins
            } else {
                t->exact_.emplace(name, e.get());
            }
        }
        t->entries_.push_back(std::move(e));
    }
    return std::shared_ptr<const cert_table>(std::move(t));
}

const cert_entry* cert_table::find(std::string_view server_name) const noexcept {
    char buf[256];
    if (!server_name.empty() && server_name.size() <= sizeof buf) {
        for (std::size_t i = 0; i < server_name.size(); ++i) {
            buf[i] = ascii_lower(server_name[i]);
        }
        std::string_view name(buf, server_name.size());
        if (!name.empty() && name.back() == '.') name.remove_suffix(1);
        if (auto it = exact_.find(name); it != exact_.end()) return it->second;
        if (std::size_t dot = name.find('.'); dot != std::string_view::npos && dot > 0) {
            if (auto it = wildcard_.find(name.substr(dot + 1)); it != wildcard_.end())
                return it->second;
        }
    }
    if (strict_ || entries_.empty()) return nullptr;
    return entries_.front().get();
}

} // namespace ringlet::tls
