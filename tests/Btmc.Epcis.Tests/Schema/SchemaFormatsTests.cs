using Btmc.Epcis.Schema;
using Xunit;

namespace Btmc.Epcis.Tests.Schema;

public sealed class SchemaFormatsTests
{
    [Theory]
    [InlineData("2005-04-03T20:33:31.116-06:00", true)]
    [InlineData("2005-07-11T11:30:47.0Z", true)]
    [InlineData("2005-04-03t20:33:31z", true)] // RFC 3339 5.6 note: T and Z may be lower case
    [InlineData("2004-02-29T00:00:00+14:00", true)]
    [InlineData("2000-02-29T00:00:00Z", true)]
    [InlineData("1998-12-31T23:59:60Z", true)] // leap second at 23:59 UTC
    [InlineData("1998-12-31T15:59:60-08:00", true)]
    [InlineData("1998-12-31T23:58:60Z", false)]
    [InlineData("1900-02-29T00:00:00Z", false)]
    [InlineData("2005-04-31T00:00:00Z", false)]
    [InlineData("2005-13-01T00:00:00Z", false)]
    [InlineData("2005-04-03T20:33:31", false)]
    [InlineData("2005-04-03 20:33:31Z", false)]
    [InlineData("2005-04-03T20:33:31.Z", false)]
    [InlineData("2005-04-03T20:33:31+24:00", false)]
    [InlineData("2005-04-03T20:33:31+0600", false)]
    [InlineData("2005-04-03T20:33Z", false)]
    [InlineData("05-04-03T20:33:31Z", false)]
    [InlineData("２005-04-03T20:33:31Z", false)]
    public void IsDateTime_Rfc3339Cases_MatchesRfc(string value, bool valid)
    {
        Assert.Equal(valid, SchemaFormats.IsDateTime(value));
    }

    [Theory]
    [InlineData("urn:epc:id:sgtin:0614141.107346.2017", true)]
    [InlineData("https://id.gs1.org/01/09520123456788/21/12345?17=201231#frag", true)]
    [InlineData("ni:///sha-256;df7bb3c352fef055578554f09f5e2aa41782150ced7bd0b8af24dd3ccb30ba69?ver=CBV2.0", true)]
    [InlineData("http://[2001:db8::1]:8080/a", true)]
    [InlineData("example:myField", true)]
    [InlineData("https://id.gs1.org/01/0952%2F0", true)]
    [InlineData("mailto:a@example.com", true)]
    [InlineData("0614141.107346.2017", false)] // no scheme
    [InlineData("/relative/path", false)]
    [InlineData("1http://x", false)]
    [InlineData("https://exa mple.com", false)]
    [InlineData("https://example.com/%zz", false)]
    [InlineData("https://example.com/ä", false)] // an IRI, not a URI
    [InlineData("http://[zz::1]/", false)]
    [InlineData("http://host:80a/", false)]
    [InlineData("", false)]
    public void IsAbsoluteUri_Rfc3986Cases_MatchesRfc(string value, bool valid)
    {
        Assert.Equal(valid, SchemaFormats.IsAbsoluteUri(value));
    }
}
