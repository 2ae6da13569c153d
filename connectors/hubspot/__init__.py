"""HubSpot CRM: contacts feed identity; the hub logs interactions as notes and opens tickets."""
