using Btmc.Platform.Tables.Azure;
using Xunit;

namespace Btmc.Platform.Tests.Tables.Azure;

public sealed class TableConnectionStringTests
{
    [Fact]
    public void Parse_UseDevelopmentStorage_IsAzuriteDevelopmentAccount()
    {
        var parsed = TableConnectionString.Parse("UseDevelopmentStorage=true");

        Assert.Equal(new Uri("http://127.0.0.1:10002/devstoreaccount1"), parsed.TableEndpoint);
        Assert.Equal("devstoreaccount1", parsed.AccountName);
        Assert.Equal(TableConnectionString.DevelopmentAccountKey, parsed.AccountKey);
    }

    [Fact]
    public void Parse_AccountWithoutTableEndpoint_BuildsEndpointFromSuffix()
    {
        var parsed = TableConnectionString.Parse("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.windows.net");

        Assert.Equal(new Uri("https://acct.table.core.windows.net"), parsed.TableEndpoint);
        Assert.Equal("a2V5", parsed.AccountKey);
    }

    [Fact]
    public void Parse_TableEndpoint_TakesItWithoutTrailingSlash()
    {
        var parsed = TableConnectionString.Parse("AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:4567/devstoreaccount1/;");

        Assert.Equal("http://127.0.0.1:4567/devstoreaccount1", parsed.TableEndpoint.AbsoluteUri);
    }

    [Theory]
    [InlineData("AccountKey=a2V5")]
    [InlineData("AccountName=acct")]
    [InlineData("AccountName=acct;AccountKey")]
    public void Parse_MissingPart_ThrowsFormatException(string connectionString)
    {
        Assert.Throws<FormatException>(() => TableConnectionString.Parse(connectionString));
    }

    [Fact]
    public void ToString_AnyConnectionString_HidesTheKey()
    {
        var text = TableConnectionString.Parse("UseDevelopmentStorage=true").ToString();

        Assert.DoesNotContain(TableConnectionString.DevelopmentAccountKey, text, StringComparison.Ordinal);
    }
}
