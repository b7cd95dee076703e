using Azure;
using Port = Btmc.Platform.Tables;
using Sdk = Azure.Data.Tables;

namespace Btmc.Platform.Azure.Tables;

/// <summary>
/// Our entities and actions as the SDK's and back. The SDK serialises the EDM types itself; what is done here is
/// keeping the port's promise on reads: exactly the property types <see cref="Port.TableEntity"/> names (the SDK may
/// hand back <see cref="BinaryData"/> or <see cref="DateTime"/>), dates in UTC, and no system or null properties.
/// </summary>
internal static class AzureEntities
{
    public static Sdk.TableEntity ToSdk(Port.TableEntity entity)
    {
        var sdk = new Sdk.TableEntity(entity.PartitionKey, entity.RowKey);
        foreach (var (name, value) in entity.Properties)
        {
            switch (value)
            {
                // Why UTC: the service keeps an instant, not an offset; the embedded store hands back UTC too.
                case DateTimeOffset date:
                    sdk[name] = date.ToUniversalTime();
                    break;
                // Why by hand: the SDK's JSON writer refuses NaN and the infinities, which the service keeps as the
                // strings "NaN", "Infinity" and "-Infinity" typed Edm.Double.
                case double d when !double.IsFinite(d):
                    sdk[name] = double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
                    sdk[name + "@odata.type"] = "Edm.Double";
                    break;
                default:
                    sdk[name] = value;
                    break;
            }
        }

        return sdk;
    }

    public static Port.TableEntity FromSdk(Sdk.TableEntity sdk)
    {
        var properties = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (name, value) in sdk)
        {
            if (value is null || name is "PartitionKey" or "RowKey" or "Timestamp" or "ETag"
                || name.StartsWith("odata.", StringComparison.Ordinal) || name.Contains('@', StringComparison.Ordinal))
            {
                continue;
            }

            properties[name] = value switch
            {
                BinaryData binary => binary.ToArray(),
                DateTime date => new DateTimeOffset(DateTime.SpecifyKind(date, DateTimeKind.Utc)),
                DateTimeOffset date => date.ToUniversalTime(),
                _ => value,
            };
        }

        return new Port.TableEntity(sdk.PartitionKey, sdk.RowKey, properties)
        {
            ETag = sdk.ETag == default ? null : sdk.ETag.ToString(),
            Timestamp = sdk.Timestamp?.ToUniversalTime(),
        };
    }

    public static Sdk.TableUpdateMode ToSdk(Port.TableUpdateMode mode) =>
        mode == Port.TableUpdateMode.Replace ? Sdk.TableUpdateMode.Replace : Sdk.TableUpdateMode.Merge;

    public static Sdk.TableTransactionAction ToSdk(Port.TableTransactionAction action)
    {
        var etag = new ETag(action.IfMatch);
        return action.ActionType switch
        {
            Port.TableTransactionActionType.Add => new(Sdk.TableTransactionActionType.Add, ToSdk(action.Entity)),
            Port.TableTransactionActionType.UpdateMerge => new(Sdk.TableTransactionActionType.UpdateMerge, ToSdk(action.Entity), etag),
            Port.TableTransactionActionType.UpdateReplace => new(Sdk.TableTransactionActionType.UpdateReplace, ToSdk(action.Entity), etag),
            Port.TableTransactionActionType.UpsertMerge => new(Sdk.TableTransactionActionType.UpsertMerge, ToSdk(action.Entity)),
            Port.TableTransactionActionType.UpsertReplace => new(Sdk.TableTransactionActionType.UpsertReplace, ToSdk(action.Entity)),
            Port.TableTransactionActionType.Delete => new(Sdk.TableTransactionActionType.Delete,
                new Sdk.TableEntity(action.Entity.PartitionKey, action.Entity.RowKey), etag),
            _ => throw new ArgumentOutOfRangeException(nameof(action), action.ActionType, "Unknown transaction action type."),
        };
    }
}
