#include "security/device_certificate.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>

namespace energyhub {

namespace {

template <auto Free>
struct Deleter {
    template <typename T>
    void operator()(T* p) const {
        Free(p);
    }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;

[[noreturn]] void fail(const std::string& what) {
    char buf[256] = "no detail";
    if (const auto code = ERR_get_error()) ERR_error_string_n(code, buf, sizeof buf);
    ERR_clear_error();
    throw std::runtime_error(what + " (" + buf + ")");
}

BioPtr open_file(const std::string& path, const char* what) {
    BioPtr bio(BIO_new_file(path.c_str(), "r"));
    if (!bio) fail(std::string("cannot read ") + what + " '" + path + "'");
    return bio;
}

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
    ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
    if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) fail("cannot add a certificate extension");
}

std::string pem_of(const std::function<int(BIO*)>& write) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get()) != 1) fail("cannot write PEM");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

DeviceCertificate issue_device_certificate(const std::string& device_id, const std::string& ca_cert_file,
                                           const std::string& ca_key_file, int days) {
    X509Ptr ca(PEM_read_bio_X509(open_file(ca_cert_file, "device_ca.cert_file").get(), nullptr, nullptr, nullptr));
    if (!ca) fail("device_ca.cert_file '" + ca_cert_file + "' is not a PEM certificate");
    KeyPtr ca_key(
        PEM_read_bio_PrivateKey(open_file(ca_key_file, "device_ca.key_file").get(), nullptr, nullptr, nullptr));
    if (!ca_key) fail("device_ca.key_file '" + ca_key_file + "' is not an unencrypted PEM private key");
    if (X509_check_private_key(ca.get(), ca_key.get()) != 1)
        fail("device_ca.key_file '" + ca_key_file + "' is not the key of device_ca.cert_file '" + ca_cert_file + "'");

    KeyPtr key(EVP_EC_gen("P-256"));
    if (!key) fail("cannot make a key");
    X509Ptr cert(X509_new());
    BnPtr serial(BN_new());
    if (!cert || !serial || X509_set_version(cert.get(), 2) != 1 ||
        BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
        !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())))
        fail("cannot start a certificate");
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);  // a device clock a little behind
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86'400);
    X509_NAME* name = X509_get_subject_name(cert.get());
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(device_id.c_str()),
                                   -1, -1, 0) != 1 ||
        X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get())) != 1 ||
        X509_set_pubkey(cert.get(), key.get()) != 1)
        fail("cannot fill in the certificate");
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca.get(), cert.get(), nullptr, nullptr, 0);
    add_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature");
    add_extension(cert.get(), &ctx, NID_ext_key_usage, "clientAuth");
    add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
    add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid");
    if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) <= 0) fail("cannot sign the certificate");

    DeviceCertificate out;
    out.cert_pem = pem_of([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); });
    out.key_pem =
        pem_of([&](BIO* b) { return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr); });
    return out;
}

}  // namespace energyhub
