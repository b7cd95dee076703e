namespace Btmc.Platform.Keys.KeyVault;

/// <summary>An elliptic curve (<c>crv</c>) as Key Vault names it; any string the service sends is kept.</summary>
public readonly record struct KeyCurveName(string Value)
{
    /// <summary>NIST P-256 (secp256r1), for ES256. Our <c>EcPublicJwk</c> calls it "P-256" too.</summary>
    public static KeyCurveName P256 { get; } = new("P-256");

    /// <summary>SECG secp256k1, for ES256K. Key Vault calls it "P-256K"; RFC 8812 and our <c>EcPublicJwk</c> "secp256k1".</summary>
    public static KeyCurveName P256K { get; } = new("P-256K");

    public static implicit operator KeyCurveName(string value) => new(value);

    public override string ToString() => Value;
}
