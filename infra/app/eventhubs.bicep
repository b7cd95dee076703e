// The Event Hubs namespace and the supply-events stream (docs/architecture.md, "Configuration").
// Capture publishes to supply-events; the SealSupplyEvents trigger reads it through consumer group `sealer`.
// Hub and consumer group names are fixed by functions/bindings/SealSupplyEvents/function.json. mining-events is in compute.bicep.
param name string
param location string = resourceGroup().location
param tags object = {}
param throughputUnits int
param maximumThroughputUnits int

@description('Must equal Supply:Partitions (api.bicep): a batch from a partition without a chain is retried forever.')
param supplyEventsPartitionCount int

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
    capacity: throughputUnits
  }
  properties: {
    disableLocalAuth: true // Entra ID only: no shared access keys
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
    isAutoInflateEnabled: true
    maximumThroughputUnits: maximumThroughputUnits
  }
}

resource supplyEvents 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  parent: namespace
  name: 'supply-events'
  properties: {
    partitionCount: supplyEventsPartitionCount
    messageRetentionInDays: 7 // the Standard tier's most: a sealer outage up to a week loses nothing
  }
}

resource sealer 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2024-01-01' = {
  parent: supplyEvents
  name: 'sealer'
}

output name string = namespace.name
output resourceId string = namespace.id
output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'
