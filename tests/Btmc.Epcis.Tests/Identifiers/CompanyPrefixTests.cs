using Btmc.Epcis.Identifiers;
using Xunit;

namespace Btmc.Epcis.Tests.Identifiers;

public sealed class CompanyPrefixTests
{
    [Theory]
    [InlineData("urn:epc:id:sgtin:4012345.000010.1")]
    [InlineData("urn:epc:id:sgtin:4012345.100010.1")]
    [InlineData("urn:epc:class:lgtin:4012345.000010.LOT7")]
    [InlineData("urn:epc:id:sscc:4012345.0000000001")]
    [InlineData("urn:epc:id:sgln:4012345.00001.0")]
    [InlineData("urn:epc:id:pgln:4012345.00001")]
    [InlineData("urn:epc:id:grai:4012345.00001.9")]
    [InlineData("urn:epc:id:giai:4012345.A77")]
    [InlineData("https://id.gs1.org/01/04012345000108/21/2")]
    [InlineData("https://brand.example.com/01/14012345000105/21/2")]
    public void IsUnderAny_Gs1KeysOfTheCompany_True(string identifier)
    {
        Assert.True(CompanyPrefix.IsUnderAny(identifier, ["4012345"]));
        Assert.False(CompanyPrefix.IsUnderAny(identifier, ["4098765"]));
    }

    [Theory]
    [InlineData("urn:example:chip:1")]
    [InlineData("https://example.com/chips/1")]
    public void IsUnderAny_IdentifierWithoutAGs1Key_UnderNoPrefixButStar(string identifier)
    {
        Assert.Null(CompanyPrefix.KeyDigits(identifier));
        Assert.False(CompanyPrefix.IsUnderAny(identifier, ["4012345"]));
        Assert.True(CompanyPrefix.IsUnderAny(identifier, ["*"]));
    }

    [Fact]
    public void KeyDigits_Gtin_SkipsTheIndicatorDigit()
    {
        // GTIN-14 of SGTIN 4012345.100010: indicator 1, company prefix 4012345, item 00010, check digit 5 (GS1 mod 10
        // over 1401234500010, weights 3,1,3,… from the right: 0+1+0+0+0+5+12+3+6+1+0+4+3 = 35, so 5).
        Assert.Equal("4012345000105", CompanyPrefix.KeyDigits("urn:epc:id:sgtin:4012345.100010.1"));
    }

    [Theory]
    [InlineData("4012", true)]
    [InlineData("401234567890", true)]
    [InlineData("*", true)]
    [InlineData("401", false)]
    [InlineData("4012345678901", false)]
    [InlineData("40a2345", false)]
    [InlineData("", false)]
    public void IsValid_RegistryPrefixes(string prefix, bool valid) => Assert.Equal(valid, CompanyPrefix.IsValid(prefix));
}
