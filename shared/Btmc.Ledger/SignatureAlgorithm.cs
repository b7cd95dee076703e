namespace Btmc.Ledger;

/// <summary>ECDSA over SHA-256 digests (JWA names, RFC 7518 / RFC 8812).</summary>
public enum SignatureAlgorithm
{
    /// <summary>ECDSA on P-256 (secp256r1).</summary>
    ES256,

    /// <summary>ECDSA on secp256k1.</summary>
    ES256K,
}
