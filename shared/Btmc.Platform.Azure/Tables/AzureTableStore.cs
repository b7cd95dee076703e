using Azure.Core;
using Btmc.Platform.Tables;
using Sdk = Azure.Data.Tables;

namespace Btmc.Platform.Azure.Tables;

/// <summary>
/// Azure Table storage (or Azurite) behind the table port, on Azure.Data.Tables' <see cref="Sdk.TableServiceClient"/>:
/// a connection string (shared key; <c>UseDevelopmentStorage=true</c> for Azurite), or the service URI and an Entra ID
/// <see cref="TokenCredential"/> (the identity needs a Storage Table Data role). Thread-safe; share one per account.
/// </summary>
public sealed class AzureTableStore : ITableServiceClient
{
    private readonly Sdk.TableServiceClient _service;

    /// <summary>Signs with the account key of <paramref name="connectionString"/>.</summary>
    public AzureTableStore(string connectionString, Sdk.TableClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        _service = new Sdk.TableServiceClient(connectionString, options ?? CreateOptions());
    }

    /// <summary>Authenticates with Entra ID tokens; the SDK refuses to send them to an http endpoint.</summary>
    public AzureTableStore(Uri endpoint, TokenCredential credential, Sdk.TableClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(credential);
        _service = new Sdk.TableServiceClient(endpoint, credential, options ?? CreateOptions());
    }

    /// <summary>The table service endpoint (Azurite: <c>http://host:port/account</c>).</summary>
    public Uri Endpoint => _service.Uri;

    /// <summary>
    /// The SDK's settings with bounded, exponential retries: 4 retries from 0.5 s up to 8 s apart, for 408, 429, 500,
    /// 502, 503, 504 and network failures, each attempt cut off after 30 s. Why bounded: a sealer or a capture stuck
    /// in retries behind a throttled or absent store must fail in well under a minute, so that the caller reports 503
    /// (or the Functions host redelivers) instead of hanging.
    /// </summary>
    public static Sdk.TableClientOptions CreateOptions()
    {
        var options = new Sdk.TableClientOptions();
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = 4;
        options.Retry.Delay = TimeSpan.FromMilliseconds(500);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(8);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        return options;
    }

    /// <inheritdoc />
    public ITableClient GetTableClient(string tableName)
    {
        ArgumentNullException.ThrowIfNull(tableName);
        return new AzureTable(_service.GetTableClient(tableName), _service.Uri);
    }
}
