"""Files agents read: parsing uploads to text, chunking it for search, the windows an agent
sees of an open file, and Letta's three file tools."""
