#include "ringlet/certs/acme/csr.hpp"

namespace ringlet::certs::acme {

result<std::string> make_csr_der(const std::vector<std::string>& names, const p256_key& key,
                                 WC_RNG& rng, std::string& error) {
    using namespace der;
    std::string first;
    auto san = general_names(names, first, error);
    if (!san) return fail_msg(san.error(), error, "CSR: " + error);
    auto spki = key.spki_der(error);
    if (!spki) return unexpected{spki.error()};

    // ub-common-name is 64 characters (RFC 5280 appendix A).
    const bool empty_subject = first.size() > 64;
    const bytes subject = make_name("", empty_subject ? "" : first);
    static constexpr std::uint8_t version_1[] = {tag::integer, 0x01, 0x00};
    // attributes [0] IMPLICIT SET OF Attribute { extensionRequest, SET { Extensions } }
    const bytes attributes =
        tlv(tag::ctx0,
            {tlv(tag::sequence,
                 {oid::extension_request,
                  tlv(tag::set, {tlv(tag::sequence,
                                     {extension(oid::subject_alt_name, empty_subject, *san)})})})});
    const bytes info = tlv(tag::sequence, {version_1, subject, *spki, attributes});

    auto csr = sign_der(info, key, rng, error);
    if (!csr) return fail_msg(csr.error(), error, "CSR: " + error);
    return std::string(csr->begin(), csr->end());
}

result<std::string> make_csr_der(const std::vector<std::string>& names, const p256_key& key,
                                 std::string& error) {
    auto rng = new_rng(error);
    if (!rng) return unexpected{rng.error()};
    return make_csr_der(names, key, **rng, error);
}

} // namespace ringlet::certs::acme
