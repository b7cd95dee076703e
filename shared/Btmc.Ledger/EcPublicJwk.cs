using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace Btmc.Ledger;

/// <summary>
/// An EC public key as a JWK (RFC 7517 / 7518): kty "EC", crv "P-256" or "secp256k1",
/// x and y the 32-byte affine coordinates in unpadded base64url, optional kid.
/// </summary>
public sealed record EcPublicJwk(
    [property: JsonPropertyName("kty")] string Kty,
    [property: JsonPropertyName("crv")] string Crv,
    [property: JsonPropertyName("x")] string X,
    [property: JsonPropertyName("y")] string Y,
    [property: JsonPropertyName("kid"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Kid = null)
{
    /// <summary>The "kty" of every EC key.</summary>
    public const string KeyTypeEc = "EC";

    /// <summary>The "crv" of P-256.</summary>
    public const string CurveP256 = "P-256";

    /// <summary>The "crv" of secp256k1 (RFC 8812).</summary>
    public const string CurveSecp256k1 = "secp256k1";

    /// <summary>The length of one coordinate in bytes.</summary>
    public const int CoordinateSize = 32;

    private const string P256Oid = "1.2.840.10045.3.1.7";
    private const string Secp256k1Oid = "1.3.132.0.10";

    /// <summary>The algorithm implied by <see cref="Crv"/>.</summary>
    /// <exception cref="ArgumentException">The curve is not P-256 or secp256k1.</exception>
    [JsonIgnore]
    public SignatureAlgorithm Algorithm => Crv switch
    {
        CurveP256 => SignatureAlgorithm.ES256,
        CurveSecp256k1 => SignatureAlgorithm.ES256K,
        _ => throw new ArgumentException($"Unsupported curve '{Crv}'; expected '{CurveP256}' or '{CurveSecp256k1}'.", nameof(Crv)),
    };

    /// <summary>The public half of <paramref name="key"/> as a JWK.</summary>
    /// <exception cref="ArgumentException">The key is not on P-256 or secp256k1.</exception>
    public static EcPublicJwk FromECDsa(ECDsa key, string? kid = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        var parameters = key.ExportParameters(includePrivateParameters: false);
        var crv = CurveName(parameters.Curve)
            ?? throw new ArgumentException("The key is not on P-256 or secp256k1.", nameof(key));
        if (parameters.Q.X is not { Length: CoordinateSize } x || parameters.Q.Y is not { Length: CoordinateSize } y)
        {
            throw new ArgumentException($"The key coordinates are not {CoordinateSize} bytes.", nameof(key));
        }

        return new EcPublicJwk(KeyTypeEc, crv, Base64Url.EncodeToString(x), Base64Url.EncodeToString(y), kid);
    }

    /// <summary>A new ECDsa holding this public key; the caller disposes it.</summary>
    /// <exception cref="ArgumentException">The JWK is malformed or the point is not on the curve.</exception>
    public ECDsa CreateECDsa()
    {
        var curve = Algorithm switch
        {
            SignatureAlgorithm.ES256 => ECCurve.NamedCurves.nistP256,
            _ => ECCurve.CreateFromValue(Secp256k1Oid),
        };
        ValidateKeyType();
        var parameters = new ECParameters
        {
            Curve = curve,
            Q = new ECPoint { X = DecodeCoordinate(X, nameof(X)), Y = DecodeCoordinate(Y, nameof(Y)) },
        };
        try
        {
            return ECDsa.Create(parameters);
        }
        catch (CryptographicException ex)
        {
            throw new ArgumentException("The JWK is not a valid public key on its curve.", nameof(X), ex);
        }
    }

    /// <summary>The RFC 7638 thumbprint: base64url(SHA-256 of {"crv":..,"kty":"EC","x":..,"y":..}).</summary>
    /// <exception cref="ArgumentException">The JWK is malformed.</exception>
    public string ComputeThumbprint()
    {
        _ = Algorithm;
        ValidateKeyType();
        _ = DecodeCoordinate(X, nameof(X));
        _ = DecodeCoordinate(Y, nameof(Y));

        // Every member value is now known to need no JSON escaping.
        var json = $$"""{"crv":"{{Crv}}","kty":"{{Kty}}","x":"{{X}}","y":"{{Y}}"}""";
        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(json)));
    }

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Kty = ").Append(Kty)
            .Append(", Crv = ").Append(Crv)
            .Append(", X = ").Append(X)
            .Append(", Y = ").Append(Y)
            .Append(", Kid = ").Append(Kid);
        return true;
    }

    private void ValidateKeyType()
    {
        if (!string.Equals(Kty, KeyTypeEc, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Key type '{Kty}' is not '{KeyTypeEc}'.", nameof(Kty));
        }
    }

    // Canonical unpadded base64url of exactly 32 bytes.
    private static byte[] DecodeCoordinate(string? value, string paramName)
    {
        const int EncodedLength = 43;
        if (value is null || value.Length != EncodedLength)
        {
            throw new ArgumentException($"A coordinate is {EncodedLength} characters of unpadded base64url.", paramName);
        }

        var bytes = new byte[CoordinateSize];
        if (Base64Url.DecodeFromChars(value, bytes, out var consumed, out var written) != System.Buffers.OperationStatus.Done
            || consumed != EncodedLength
            || written != CoordinateSize
            || !string.Equals(Base64Url.EncodeToString(bytes), value, StringComparison.Ordinal))
        {
            throw new ArgumentException("A coordinate is not canonical base64url of 32 bytes.", paramName);
        }

        return bytes;
    }

    private static string? CurveName(ECCurve curve)
    {
        var oid = curve.Oid;
        if (oid is null)
        {
            return null;
        }

        if (oid.Value == P256Oid || oid.FriendlyName is "nistP256" or "ECDSA_P256" or "secp256r1" or "prime256v1")
        {
            return CurveP256;
        }

        if (oid.Value == Secp256k1Oid || oid.FriendlyName is "secp256k1")
        {
            return CurveSecp256k1;
        }

        return null;
    }
}
