using Azure.Core;

namespace Btmc.Platform.Tables.Azure;

/// <summary>
/// Pipeline settings of <see cref="AzureTableServiceClient"/>. Retries are bounded and exponential: by default 4
/// retries from 0.5 s up to 8 s apart, for 408, 429, 500, 502, 503, 504 and network failures, each attempt cut off
/// after 30 s (<see cref="RetryOptions.NetworkTimeout"/>).
/// </summary>
public sealed class AzureTableClientOptions : ClientOptions
{
    public AzureTableClientOptions()
    {
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 4;
        Retry.Delay = TimeSpan.FromMilliseconds(500);
        Retry.MaxDelay = TimeSpan.FromSeconds(8);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
    }
}
