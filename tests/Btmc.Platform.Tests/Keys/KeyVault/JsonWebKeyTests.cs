using System.Security.Cryptography;
using Btmc.Ledger;
using Btmc.Platform.Keys.KeyVault;
using Xunit;

namespace Btmc.Platform.Tests.Keys.KeyVault;

public sealed class JsonWebKeyTests
{
    private static JsonWebKey Jwk(KeyType type, KeyCurveName? curve, byte[]? x, byte[]? y) =>
        new("https://myvault.vault.azure.net/keys/k/0123456789abcdef0123456789abcdef", type, curve, x, y, [KeyOperation.Sign]);

    /// <summary>A P-256 key whose x coordinate starts with a zero byte (about one key in 256).</summary>
    private static ECDsa KeyWithLeadingZeroX()
    {
        while (true)
        {
            var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            if (key.ExportParameters(false).Q.X is [0, ..])
            {
                return key;
            }

            key.Dispose();
        }
    }

    [Fact]
    public void ToEcPublicJwk_CoordinatesWithoutOrWithExtraLeadingZeros_GiveTheCanonicalKey()
    {
        using var key = KeyWithLeadingZeroX();
        var point = key.ExportParameters(false).Q;
        var x = point.X ?? throw new InvalidOperationException("no x");
        var y = point.Y ?? throw new InvalidOperationException("no y");
        var expected = EcPublicJwk.FromECDsa(key);

        var trimmed = Jwk(KeyType.Ec, KeyCurveName.P256, x[1..], y).ToEcPublicJwk();
        var extended = Jwk(KeyType.EcHsm, KeyCurveName.P256, [0, .. x], [0, .. y]).ToEcPublicJwk();

        Assert.Equal(expected, trimmed);
        Assert.Equal(expected, extended);
        Assert.Equal(expected.ComputeThumbprint(), trimmed.ComputeThumbprint());
    }

    [Fact]
    public void ToEcPublicJwk_NotAnEcKeyOnP256OrP256K_Throws()
    {
        var coordinate = new byte[32];
        coordinate[31] = 1;

        Assert.Throws<InvalidOperationException>(() => Jwk("RSA", null, null, null).ToEcPublicJwk());
        Assert.Throws<InvalidOperationException>(() => Jwk(KeyType.Ec, "P-384", coordinate, coordinate).ToEcPublicJwk());
        Assert.Throws<InvalidOperationException>(() => Jwk(KeyType.Ec, null, coordinate, coordinate).ToEcPublicJwk());
        Assert.Throws<InvalidOperationException>(() => Jwk(KeyType.Ec, KeyCurveName.P256, coordinate, null).ToEcPublicJwk());
        Assert.Throws<InvalidOperationException>(() => Jwk(KeyType.Ec, KeyCurveName.P256, [1, .. coordinate], coordinate).ToEcPublicJwk());
    }
}
