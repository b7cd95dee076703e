using Azure.Core;
using Azure.Core.Pipeline;

namespace Btmc.Platform.Tables.Azure;

/// <summary>
/// Azure Table storage (or Azurite) over its REST API, on an Azure.Core <see cref="HttpPipeline"/>: SharedKeyLite
/// for a connection string, Entra ID bearer tokens for a <see cref="TokenCredential"/>. Thread-safe; share one
/// instance per account.
/// </summary>
public sealed class AzureTableServiceClient : ITableServiceClient
{
    /// <summary>The token scope of Azure Storage.</summary>
    public const string StorageScope = "https://storage.azure.com/.default";

    private readonly HttpPipeline _pipeline;

    /// <summary>Signs with the account key of <paramref name="connectionString"/> (SharedKeyLite).</summary>
    public AzureTableServiceClient(string connectionString, AzureTableClientOptions? options = null)
        : this(TableConnectionString.Parse(connectionString), options)
    {
    }

    /// <summary>Signs with the account key of <paramref name="connectionString"/> (SharedKeyLite).</summary>
    public AzureTableServiceClient(TableConnectionString connectionString, AzureTableClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        Endpoint = connectionString.TableEndpoint;
        _pipeline = HttpPipelineBuilder.Build(
            options ?? new AzureTableClientOptions(),
            [],
            [new SharedKeyLitePolicy(connectionString.AccountName, connectionString.AccountKey)],
            new ResponseClassifier());
    }

    /// <summary>
    /// Authenticates with Entra ID tokens for <see cref="StorageScope"/> (the identity needs a Storage Table Data
    /// role). The endpoint must be https: Azure.Core refuses to send bearer tokens in the clear.
    /// </summary>
    public AzureTableServiceClient(Uri endpoint, TokenCredential credential, AzureTableClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(credential);
        Endpoint = new Uri(endpoint.AbsoluteUri.TrimEnd('/'));
        _pipeline = HttpPipelineBuilder.Build(
            options ?? new AzureTableClientOptions(),
            [],
            [new BearerTokenAuthenticationPolicy(credential, StorageScope)],
            new ResponseClassifier());
    }

    /// <summary>The table service endpoint, without a trailing slash (Azurite: <c>http://host:port/account</c>).</summary>
    public Uri Endpoint { get; }

    /// <inheritdoc />
    public ITableClient GetTableClient(string tableName)
    {
        ArgumentNullException.ThrowIfNull(tableName);
        return new AzureTableClient(_pipeline, Endpoint, tableName);
    }
}
