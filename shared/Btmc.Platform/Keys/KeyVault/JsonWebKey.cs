using System.Buffers.Text;
using Btmc.Ledger;

namespace Btmc.Platform.Keys.KeyVault;

/// <summary>
/// The public part of a Key Vault key as the service returns it (the <c>key</c> member of a key bundle): <c>kid</c>,
/// <c>kty</c>, <c>crv</c>, <c>x</c>, <c>y</c> (big-endian coordinates, base64url on the wire) and <c>key_ops</c>.
/// Named as the official client's <c>JsonWebKey</c>.
/// </summary>
public sealed record JsonWebKey(
    string Id,
    KeyType KeyType,
    KeyCurveName? CurveName,
    byte[]? X,
    byte[]? Y,
    IReadOnlyList<KeyOperation> KeyOps)
{
    /// <summary>
    /// The key as our ledger's <see cref="EcPublicJwk"/>: kty "EC" (for "EC" and "EC-HSM"), crv "P-256" or
    /// "secp256k1" (Key Vault's "P-256K"), x and y as 32 bytes of unpadded base64url. A coordinate the service
    /// sent shorter than 32 bytes is left-padded with zeros, one longer only by leading zeros is trimmed (the same
    /// integer either way), so the thumbprint is the canonical RFC 7638 one.
    /// </summary>
    /// <exception cref="InvalidOperationException">The key is not an EC key on P-256 or P-256K, or lacks a coordinate.</exception>
    public EcPublicJwk ToEcPublicJwk(string? kid = null)
    {
        if (!KeyType.IsEc)
        {
            throw new InvalidOperationException($"Key '{Id}' is of type '{KeyType}', not an EC key.");
        }

        var crv = CurveName?.Value switch
        {
            "P-256" => EcPublicJwk.CurveP256,
            "P-256K" => EcPublicJwk.CurveSecp256k1,
            _ => throw new InvalidOperationException(
                $"Key '{Id}' is on curve '{CurveName?.Value}'; only {KeyCurveName.P256} and {KeyCurveName.P256K} sign ledger blocks."),
        };

        return new EcPublicJwk(
            EcPublicJwk.KeyTypeEc,
            crv,
            Base64Url.EncodeToString(Coordinate(X, "x")),
            Base64Url.EncodeToString(Coordinate(Y, "y")),
            kid);
    }

    private byte[] Coordinate(byte[]? value, string name)
    {
        const int Size = EcPublicJwk.CoordinateSize;
        if (value is null || value.Length == 0)
        {
            throw new InvalidOperationException($"Key '{Id}' has no '{name}' coordinate.");
        }

        var significant = value.AsSpan().TrimStart((byte)0);
        if (significant.Length > Size)
        {
            throw new InvalidOperationException($"Key '{Id}' has a {value.Length}-byte '{name}' coordinate; expected {Size}.");
        }

        var padded = new byte[Size];
        significant.CopyTo(padded.AsSpan(Size - significant.Length));
        return padded;
    }
}
